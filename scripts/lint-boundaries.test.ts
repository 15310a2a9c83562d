import path from "node:path";
import { ESLint } from "eslint";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * The layering is enforced by `npm run lint` (eslint.config.mjs). These cases feed the real
 * config files that are not on disk (ESLint's lintText with a path inside the repository), so
 * a rule that is dropped, mistyped or loosened fails here instead of silently letting imports
 * through. Each boundary has a violating file and an allowed neighbour.
 */
const root = path.resolve(import.meta.dirname, "..");
/** The files linted below; none exists, so the type-aware parser checks them in tsconfig's default project. */
const PROBES = [
  "lib/detectors/probe.ts",
  "components/ui/probe.tsx",
  "app/streams/probe/page.tsx",
  "app/api/v1/probe/route.ts",
  "server/api/routers/probe.ts",
  "server/services/probe/probe-service.ts",
  "server/repos/probe-repo.ts",
  "server/repos/storage/probe.ts",
  "server/worker/pipeline/probe.ts",
];
let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({
    cwd: root,
    overrideConfig: {
      languageOptions: { parserOptions: { projectService: { allowDefaultProject: PROBES, defaultProject: "tsconfig.json", maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: PROBES.length }, tsconfigRootDir: root } },
    },
  });
});

async function lint(file: string, code: string): Promise<string[]> {
  if (!PROBES.includes(file) && file !== "server/worker/main.ts") throw new Error(`add ${file} to PROBES`);
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  if (!result) throw new Error("no lint result");
  const fatal = result.messages.filter((m) => m.fatal);
  if (fatal.length) throw new Error(`${file}: ${fatal.map((m) => m.message).join("; ")}`);
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

const rule = (id: string) => expect.arrayContaining([expect.stringMatching(new RegExp(`^${id.replace(/[/]/g, "\\/")}: `))]);

describe("import boundaries (eslint.config.mjs)", () => {
  it("lib/ imports nothing from server/, by alias or by relative path", async () => {
    expect(await lint("lib/detectors/probe.ts", `import { env } from "@/server/env";\nexport const port = env().PORT;\n`)).toEqual(rule("import-x/no-restricted-paths"));
    expect(await lint("lib/detectors/probe.ts", `export { pool } from "../../server/db";\n`)).toEqual(rule("import-x/no-restricted-paths"));
    expect(await lint("lib/detectors/probe.ts", `import type { AppRouter } from "@/server/api/root";\nexport type R = AppRouter;\n`)).toEqual(rule("import-x/no-restricted-paths"));
    expect(await lint("lib/detectors/probe.ts", `import { Rng } from "./rng";\nexport const r = Rng;\n`)).toEqual([]);
  }, 120_000);

  it("components and pages use the server only as tRPC types", async () => {
    expect(await lint("components/ui/probe.tsx", `import type { AppRouter } from "@/server/api/root";\nexport type R = AppRouter;\n`)).toEqual([]);
    expect(await lint("components/ui/probe.tsx", `import { appRouter } from "@/server/api/root";\nexport const r = appRouter;\n`)).toEqual(rule("@typescript-eslint/no-restricted-imports"));
    expect(await lint("components/ui/probe.tsx", `import type { TEnv } from "@/server/env";\nexport type E = TEnv;\n`)).toEqual(rule("import-x/no-restricted-paths"));
    expect(await lint("app/streams/probe/page.tsx", `import { countStreams } from "@/server/repos/streams-repo";\nexport const f = countStreams;\n`)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^import-x\/no-restricted-paths: /), expect.stringMatching(/^@typescript-eslint\/no-restricted-imports: /)]),
    );
  }, 120_000);

  it("route handlers go through services, not repos or the database", async () => {
    expect(await lint("app/api/v1/probe/route.ts", `import { findStreams } from "@/server/services/streams/stream-service";\nexport const GET = findStreams;\n`)).toEqual([]);
    expect(await lint("app/api/v1/probe/route.ts", `import { pool } from "@/server/db";\nexport const GET = pool;\n`)).toEqual(rule("import-x/no-restricted-paths"));
    expect(await lint("server/api/routers/probe.ts", `import { getSetting } from "../../repos/settings-repo";\nexport const g = getSetting;\n`)).toEqual(rule("import-x/no-restricted-paths"));
  }, 120_000);

  it("services use repos: no worker, no database clients", async () => {
    expect(await lint("server/services/probe/probe-service.ts", `import { getSetting } from "../../repos/settings-repo";\nexport const g = getSetting;\n`)).toEqual([]);
    expect(await lint("server/services/probe/probe-service.ts", `import { Worker } from "../../worker/worker";\nexport const w = Worker;\n`)).toEqual(rule("import-x/no-restricted-paths"));
    expect(await lint("server/services/probe/probe-service.ts", `import { pool } from "../../db";\nexport const p = pool;\n`)).toEqual(rule("import-x/no-restricted-paths"));
    expect(await lint("server/services/probe/probe-service.ts", `import pg from "pg";\nexport const c = pg.Client;\n`)).toEqual(rule("no-restricted-imports"));
    expect(await lint("server/services/probe/probe-service.ts", `import { PrismaClient } from "@/server/generated/prisma/client";\nexport const c = PrismaClient;\n`)).toEqual(rule("import-x/no-restricted-paths"));
  }, 120_000);

  it("only repos (and a process's main.ts) touch the database; repos import no layer above", async () => {
    expect(await lint("server/repos/probe-repo.ts", `import pg from "pg";\nimport { pool } from "../db";\nexport const p = [pg.Client, pool];\n`)).toEqual([]);
    expect(await lint("server/repos/probe-repo.ts", `import { findStreams } from "../services/streams/stream-service";\nexport const f = findStreams;\n`)).toEqual(rule("import-x/no-restricted-paths"));
    expect(await lint("server/worker/pipeline/probe.ts", `import { pool } from "../../db";\nexport const p = pool;\n`)).toEqual(rule("import-x/no-restricted-paths"));
    expect(await lint("server/worker/main.ts", `import { closeDatabase } from "../db";\nexport const c = closeDatabase;\n`)).toEqual([]);
  }, 120_000);

  it("only server/repos/storage holds SQL on the sample, score and rollup tables, and binary COPY", async () => {
    const copy = `import { encodeBinaryCopy } from "./pg-binary-copy";\nimport { from } from "pg-copy-streams";\nexport const c = [encodeBinaryCopy, from];\n`;
    const sql = "export const a = \"SELECT vals FROM sample_block\";\nexport const b = (t: number) => `DELETE FROM score_rollup_1m WHERE bucket < ${t}`;\n";
    expect(await lint("server/repos/storage/probe.ts", copy + sql)).toEqual([]);
    expect(await lint("server/repos/probe-repo.ts", `import { encodeBinaryCopy } from "./storage/pg-binary-copy";\nexport const c = encodeBinaryCopy;\n`)).toEqual(rule("import-x/no-restricted-paths"));
    expect(await lint("server/repos/probe-repo.ts", `import { from } from "pg-copy-streams";\nexport const c = from;\n`)).toEqual(rule("no-restricted-imports"));
    expect(await lint("server/repos/probe-repo.ts", "export const a = \"SELECT vals FROM sample_block\";\n")).toEqual(rule("no-restricted-syntax"));
    expect(await lint("server/repos/probe-repo.ts", "export const b = (t: number) => `DELETE FROM score_rollup_1m WHERE bucket < ${t}`;\n")).toEqual(rule("no-restricted-syntax"));
    // a sequence whose name starts like a table is not the table
    expect(await lint("server/repos/probe-repo.ts", "export const s = \"SELECT last_value FROM sample_block_seq_seq\";\n")).toEqual([]);
    expect(await lint("server/services/probe/probe-service.ts", `import { readSeries } from "../../repos/storage/samples";\nexport const r = readSeries;\n`)).toEqual([]);
  }, 120_000);

  it("settings are read through server/env.ts only", async () => {
    expect(await lint("server/services/probe/probe-service.ts", `export const file = process.env.OMEN_CONFIG_FILE ?? "omen.yaml";\n`)).toEqual(rule("no-restricted-properties"));
    expect(await lint("lib/detectors/probe.ts", `export const seed = Number(process.env.SEED);\n`)).toEqual(rule("no-restricted-properties"));
    expect(await lint("server/services/probe/probe-service.ts", `import { env } from "../../env";\nexport const file = env().OMEN_CONFIG_FILE;\n`)).toEqual([]);
  }, 120_000);

  it("keeps its correctness rules: a floating promise is an error", async () => {
    expect(await lint("server/services/probe/probe-service.ts", `async function f(): Promise<void> {}\nexport function g(): void {\n  f();\n}\n`)).toEqual(rule("@typescript-eslint/no-floating-promises"));
  }, 120_000);
});
