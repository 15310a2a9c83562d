/**
 * Runs the Prisma CLI offline: `npm run prisma -- <prisma args>` (= `tsx scripts/prisma.ts ...`).
 *
 * Prisma 7 tries to download a native schema engine before every command. This wrapper points
 * PRISMA_SCHEMA_ENGINE_BINARY at scripts/prisma-schema-engine.mjs (Prisma's engine compiled to
 * Wasm, served over the same stdio JSON-RPC protocol), silences update checks and telemetry, and
 * runs node_modules/prisma from the repository root so prisma.config.ts is picked up.
 *
 * Database: DATABASE_URL when set. Otherwise, for commands that need a database, the embedded
 * database: the one a running Omen serves (`<OMEN_DATA_DIR>/embedded.json`), or one hosted here
 * for the duration of the command (PGlite on `<OMEN_DATA_DIR>/pgdata` behind pglite-socket).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const schemaEngineScript = path.join(repoRoot, "scripts", "prisma-schema-engine.mjs");

/** Environment for a Prisma CLI child process. */
export function prismaEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    PRISMA_SCHEMA_ENGINE_BINARY: schemaEngineScript,
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
    PRISMA_HIDE_PREVIEW_FLAG_WARNINGS: "1",
    PRISMA_GENERATE_SKIP_AUTOINSTALL: "1",
    PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: "1",
    CHECKPOINT_DISABLE: "1",
  };
}

export function prismaCliPath(): string {
  return path.join(path.dirname(require.resolve("prisma/package.json")), "build", "index.js");
}

/** Whether these CLI arguments reach the database (and so need a URL). */
export function needsDatabase(args: readonly string[]): boolean {
  if (args.includes("--help") || args.includes("-h")) return false;
  const [command, sub] = args.filter((a) => !a.startsWith("-"));
  if (command === "studio") return true;
  if (command === "db") return sub !== undefined;
  if (command !== "migrate" || sub === undefined) return false;
  if (sub === "diff") return args.some((a) => a === "--from-config-datasource" || a === "--to-config-datasource");
  return true;
}

function ensureEngineExecutable(): void {
  // Git keeps the mode bit, but a copy or an archive may not: the CLI spawns the file directly.
  try {
    fs.accessSync(schemaEngineScript, fs.constants.X_OK);
  } catch {
    fs.chmodSync(schemaEngineScript, 0o755);
  }
}

/** Runs the Prisma CLI with `args`, inheriting stdio. Resolves to its exit code. */
export function runPrisma(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<number> {
  ensureEngineExecutable();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [prismaCliPath(), ...args], {
      cwd: options.cwd ?? repoRoot,
      env: prismaEnv(options.env ?? process.env),
      stdio: "inherit",
    });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = forward("SIGINT");
    const onTerm = forward("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(code ?? (signal === "SIGINT" ? 130 : 1));
    });
  });
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const env = { ...process.env };
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!env.DATABASE_URL && needsDatabase(args)) {
    // Same resolution as the app (server/embedded/embedded-db.ts): running Omen, else host one.
    const { resolveDatabase } = await import("../server/embedded/embedded-db");
    const dataDir = path.resolve(repoRoot, env.OMEN_DATA_DIR ?? ".omen");
    const db = await resolveDatabase(undefined, dataDir);
    env.DATABASE_URL = db.url;
    if (db.embedded) {
      process.stderr.write(`Using the embedded database in ${path.join(dataDir, "pgdata")} (hosted for this command).\n`);
      stopEmbedded = () => db.embedded!.stop();
    } else {
      process.stderr.write(`Using the embedded database served by the running Omen (${dataDir}).\n`);
    }
  }
  try {
    return await runPrisma(args, { env });
  } finally {
    await stopEmbedded?.();
  }
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
