/**
 * Lint = the layering the build enforces (docs/architecture.md), plus a few correctness rules.
 * Formatting is not linted. `npm run lint`; `npm test` runs it; `scripts/lint-boundaries.test.ts`
 * proves each boundary still fails a violating file.
 *
 *   app → server/api, server/http → services → repos → db; everything may use lib; lib uses
 *   nothing above it; pages and components reach the server only through tRPC types.
 */
import { defineConfig } from "eslint/config";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import importX from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

/** Modules that open or speak to the database: only repos (and db, embedded, migrate) use them. */
const DATABASE_PACKAGES = ["pg", "pg-copy-streams", "@prisma/client", "@prisma/adapter-pg", "@electric-sql/pglite", "@electric-sql/pglite-socket", "pglite-prisma-adapter"];
const DATABASE_MODULES = ["./server/db.ts", "./server/generated", "./server/embedded", "./server/migrate.ts"];

/** The storage engine's internals (server/repos/storage), not for the rest of the server. */
const STORAGE_INTERNALS = ["./server/repos/storage/pg-binary-copy.ts", "./server/repos/storage/derived-writes.ts", "./server/repos/storage/score-pack-sql.ts"];

const zone = (target, from, message, except) => ({ target, from, message, ...(except ? { except } : {}) });

/** Import boundaries between folders (resolved paths: `@/x`, relative and `export … from` alike). */
const LAYERS = [
  zone("./lib", ["./server", "./app", "./components", "./scripts", "./bench", "./e2e"], "lib/ is pure: it imports nothing from server/, app/, components/ or the tools."),
  zone(["./components", "./app/**/*.tsx"], "./server", "Pages and components reach the server only through tRPC: `import type { AppRouter } from \"@/server/api/root\"`.", ["./api/root.ts"]),
  zone("./app/**/route.ts", ["./server/repos", "./server/worker", "./server/web", ...DATABASE_MODULES], "Route handlers are HTTP adapters: call a service (server/services) or server/http, never repos, the database or the worker."),
  zone(["./server/api", "./server/http"], ["./server/repos", "./server/worker", "./server/web", ...DATABASE_MODULES], "server/api and server/http are thin adapters: go through a service."),
  zone("./server/services", ["./server/api", "./server/http", "./server/worker", "./server/web", ...DATABASE_MODULES], "Services use repos for data and never import the worker or the transport adapters."),
  zone("./server/repos", ["./server/services", "./server/api", "./server/http", "./server/worker", "./server/web"], "Repos are the bottom layer: they import only db, lib and each other."),
  // the processes' entry points (main.ts) open and close the database; the rest of the worker uses repos
  zone(["./server/worker/**/!(main).ts", "./server/web/**/!(main).ts"], DATABASE_MODULES, "Only repos touch the database (the process's main.ts configures it)."),
  zone("./server/worker", ["./server/api", "./server/http", "./server/web"], "The worker uses services and repos, not the web process's adapters."),
  // the storage engine's codecs and write transactions serve only its own modules
  zone(["./server/repos/*.ts", "./server/services", "./server/worker", "./server/api", "./server/http", "./server/web", "./app", "./components", "./lib"], STORAGE_INTERNALS, "The storage engine's COPY codec and transactions are internal to server/repos/storage: call one of its modules (samples, scores, rollup, …)."),
];

/** Raw SQL on the sample, score and rollup tables lives only in server/repos/storage. */
const STORAGE_TABLES = "/\\b(sample_block|score_block|sample_rollup_1m|score_rollup_1m|sample_rollup_5m|score_rollup_5m)\\b/";
const STORAGE_SQL_MESSAGE = "Samples, scores and their rollups are read and written only by server/repos/storage: add or use a function there.";

/** Where raw database clients may be imported (besides tests, scripts and benchmarks). */
const DATABASE_OWNERS = ["server/repos/**", "server/db.ts", "server/embedded/**", "server/migrate.ts", "server/testing/**"];

const TESTS = ["**/*.test.ts", "**/*.test.tsx", "e2e/**", "bench/**", "scripts/**", "server/testing/**"];

export default defineConfig(
  { ignores: ["node_modules/**", ".next/**", ".omen/**", "server/generated/**", "e2e/artifacts/**", "test-results/**", "playwright-report/**", "next-env.d.ts", "**/*.mjs", "**/*.cjs"] },
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    plugins: { "@typescript-eslint": tseslint.plugin, "import-x": importX },
    settings: {
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.json" })],
    },
    rules: {
      // correctness, not style
      ...Object.fromEntries(
        [
          "no-async-promise-executor",
          "no-compare-neg-zero",
          "no-cond-assign",
          "no-constant-binary-expression",
          "no-debugger",
          "no-dupe-else-if",
          "no-duplicate-case",
          "no-fallthrough",
          "no-self-assign",
          "no-sparse-arrays",
          "no-unreachable",
          "no-unsafe-finally",
          "no-unsafe-negation",
          "no-unused-private-class-members",
          "use-isnan",
          "valid-typeof",
        ].map((r) => [r, "error"]),
      ),
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "import-x/no-cycle": "error",
      "import-x/no-self-import": "error",
      "import-x/no-restricted-paths": ["error", { basePath: import.meta.dirname, zones: LAYERS }],
      "no-restricted-imports": [
        "error",
        {
          paths: DATABASE_PACKAGES.map((name) => ({ name, message: "Only server/repos (and server/db.ts) touch the database: add or use a repo function." })),
          patterns: [{ group: ["@prisma/client/*", "@electric-sql/pglite/*"], message: "Only server/repos touch the database." }],
        },
      ],
    },
  },
  {
    // value imports of the server from React are refused even for the router module (types only)
    files: ["components/**/*.ts", "components/**/*.tsx", "app/**/*.tsx"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(@/|(\\.\\./)+)server(/|$)",
              allowTypeImports: true,
              message: "Pages and components reach the server only through tRPC types (`import type`).",
            },
          ],
        },
      ],
    },
  },
  {
    // Omen's settings are validated once by zod in server/env.ts; a stray process.env read
    // escapes validation, defaults and the README's table. (Test, bench and e2e tooling keep
    // their own switches.)
    files: ["server/**/*.ts", "lib/**/*.ts", "app/**/*.ts", "app/**/*.tsx", "components/**/*.ts", "components/**/*.tsx", "scripts/start.ts"],
    ignores: ["server/env.ts", "server/testing/**", "**/*.test.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read settings through server/env.ts (`env()` / `parseEnv()`), where zod validates them and gives the default." },
      ],
    },
  },
  { files: [...DATABASE_OWNERS, ...TESTS, "*.config.ts", "prisma.config.ts"], rules: { "no-restricted-imports": "off" } },
  {
    // binary COPY and SQL on the hot tables: only the storage engine
    files: ["server/**/*.ts", "app/**/*.ts", "lib/**/*.ts"],
    ignores: ["server/repos/storage/**", "server/generated/**", "server/testing/**", ...TESTS],
    rules: {
      "no-restricted-syntax": [
        "error",
        { selector: `Literal[value=${STORAGE_TABLES}]`, message: STORAGE_SQL_MESSAGE },
        { selector: `TemplateElement[value.raw=${STORAGE_TABLES}]`, message: STORAGE_SQL_MESSAGE },
      ],
    },
  },
  {
    files: ["server/repos/**/*.ts"],
    ignores: ["server/repos/storage/**", ...TESTS],
    rules: {
      "no-restricted-imports": ["error", { paths: [{ name: "pg-copy-streams", message: "Binary COPY belongs to server/repos/storage (pg-binary-copy.ts)." }] }],
    },
  },
  {
    // tests and tools compose whatever they exercise; lib's tests stay pure like lib
    files: TESTS,
    ignores: ["lib/**"],
    rules: { "import-x/no-restricted-paths": "off" },
  },
);
