/**
 * The offline Prisma toolchain end to end: scripts/prisma.ts runs the real Prisma CLI with
 * scripts/prisma-schema-engine.mjs (Wasm schema engine) as its schema engine, against
 *  - a fresh PostgreSQL database on the server named by TEST_DATABASE_URL (when unset:
 *    postgres@127.0.0.1:5432 if it answers; skipped when there is no server), and
 *  - PGlite served over TCP by pglite-socket, as Omen's embedded mode does.
 * It applies this repository's migrations and checks that the database then matches
 * prisma/schema.prisma (no drift), that the migrations themselves match the schema, and that
 * Prisma agrees with the start-up migration runner (server/migrate.ts) about what is applied.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { migrate as runnerMigrate } from "../server/migrate";
import { testDatabasePrefix } from "../server/testing/test-db";

const root = path.resolve(import.meta.dirname, "..");
const CLI_TIMEOUT_MS = 120_000;
const adminUrl = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

async function reachable(url: string): Promise<boolean> {
  if (!url) return false;
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}
const postgresAvailable = await reachable(adminUrl);

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `tsx scripts/prisma.ts <args>` with a timeout; never throws on a non-zero exit. */
function prisma(args: string[], databaseUrl: string): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl, CI: "1", NO_COLOR: "1" };
  delete env.SHADOW_DATABASE_URL;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", path.join(root, "scripts", "prisma.ts"), ...args],
      { cwd: root, env, timeout: CLI_TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr: error && error.killed ? `${stderr}\n[timed out after ${CLI_TIMEOUT_MS} ms]` : stderr });
      },
    );
  });
}

function show(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

const migrationNames = fs
  .readdirSync(path.join(root, "prisma", "migrations"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

/** The checks shared by both targets. */
function migrationSuite(getUrl: () => string) {
  it("migrate status reports the database as behind before deploy", async () => {
    const r = await prisma(["migrate", "status"], getUrl());
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout, show(r)).toContain(migrationNames[0]);
  });

  it("migrate deploy applies every migration", async () => {
    const r = await prisma(["migrate", "deploy"], getUrl());
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout, show(r)).toContain("All migrations have been successfully applied");
    for (const name of migrationNames) expect(r.stdout, show(r)).toContain(name);
  });

  it("migrate status is up to date after deploy", async () => {
    const r = await prisma(["migrate", "status"], getUrl());
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout, show(r)).toContain("Database schema is up to date");
  });

  it("migrate deploy is idempotent", async () => {
    const r = await prisma(["migrate", "deploy"], getUrl());
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout, show(r)).toContain("No pending migrations to apply");
  });

  it("migrate diff finds no drift between the database and prisma/schema.prisma", async () => {
    const r = await prisma(
      ["migrate", "diff", "--from-config-datasource", "--to-schema", "prisma/schema.prisma", "--script"],
      getUrl(),
    );
    expect(r.code, show(r)).toBe(0);
    expect(unexpectedDrift(r.stdout), show(r)).toEqual([]);
  });
}

/**
 * The hot tables have covering primary keys (INCLUDE columns, migrations
 * 20261123170000_covering_primary_keys, 20261126160000_score_blocks and 20261208120000_rollup_5m). Prisma's schema language cannot express INCLUDE, so
 * `migrate diff` always proposes re-creating those keys without it. Any other statement in the
 * diff is real drift.
 */
const INEXPRESSIBLE = new Set(
  [
    ["sample", "sample_pkey", '"stream_id", "ts"'],
    ["score_rollup_1m", "score_rollup_1m_pkey", '"stream_id", "bucket"'],
    ["sample_rollup_1m", "sample_rollup_1m_pkey", '"stream_id", "bucket"'],
    ["sample_rollup_5m", "sample_rollup_5m_pkey", '"stream_id", "bucket"'],
    ["score_rollup_5m", "score_rollup_5m_pkey", '"stream_id", "bucket"'],
  ].map(([t, k, cols]) => `ALTER TABLE "${t}" DROP CONSTRAINT "${k}", ADD CONSTRAINT "${k}" PRIMARY KEY (${cols})`),
);

function unexpectedDrift(script: string): string[] {
  return script
    .split("\n")
    .filter((l) => !l.trim().startsWith("--"))
    .join("\n")
    .split(";")
    .map((st) => st.replace(/\s+/g, " ").trim())
    .filter((st) => st && !INEXPRESSIBLE.has(st));
}

/** A database migrated by the start-up runner must look fully migrated and drift-free to Prisma. */
function runnerAgreementSuite(getRunnerUrl: () => string) {
  it("agrees with the start-up migration runner (server/migrate.ts)", async () => {
    const url = getRunnerUrl();
    const result = await runnerMigrate(url);
    expect(result.applied).toEqual(migrationNames);
    const status = await prisma(["migrate", "status"], url);
    expect(status.code, show(status)).toBe(0);
    expect(status.stdout, show(status)).toContain("Database schema is up to date");
    const diff = await prisma(
      ["migrate", "diff", "--from-config-datasource", "--to-schema", "prisma/schema.prisma", "--script"],
      url,
    );
    expect(diff.code, show(diff)).toBe(0);
    expect(unexpectedDrift(diff.stdout), show(diff)).toEqual([]);
  });
}

describe.skipIf(!postgresAvailable)("prisma CLI via the Wasm schema engine: PostgreSQL", () => {
  const stamp = `${process.pid}_${Date.now().toString(36)}`;
  const dbName = `${testDatabasePrefix()}engine_it_${stamp}`;
  const runnerDbName = `${testDatabasePrefix()}engine_it_runner_${stamp}`;
  let url = "";
  let admin: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${dbName}"`);
    await admin.query(`CREATE DATABASE "${runnerDbName}"`);
    url = withDatabase(adminUrl, dbName);
  });

  afterAll(async () => {
    if (!admin) return;
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.query(`DROP DATABASE IF EXISTS "${runnerDbName}" WITH (FORCE)`);
    const left = await admin.query("SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'");
    await admin.end();
    // The engine's temporary shadow databases must not outlive a command.
    expect(left.rows).toEqual([]);
  });

  migrationSuite(() => url);

  it("the migrations directory reproduces prisma/schema.prisma (shadow database on the server)", async () => {
    const r = await prisma(
      ["migrate", "diff", "--from-migrations", "prisma/migrations", "--to-schema", "prisma/schema.prisma", "--script"],
      url,
    );
    expect(r.code, show(r)).toBe(0);
    expect(unexpectedDrift(r.stdout), show(r)).toEqual([]);
  });

  runnerAgreementSuite(() => withDatabase(adminUrl, runnerDbName));
});

/** PGlite on a temp dir behind pglite-socket, like server/embedded/embedded-db.ts. */
async function servePglite(): Promise<{ url: string; db: PGlite; stop(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "omen-engine-pglite-"));
  const db = await PGlite.create({ dataDir: path.join(dataDir, "pgdata") });
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 8 });
  await server.start();
  const port = Number(server.getServerConn().split(":").pop());
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    db,
    async stop() {
      await server.stop();
      await db.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe("prisma CLI via the Wasm schema engine: PGlite over pglite-socket", () => {
  let main: Awaited<ReturnType<typeof servePglite>> | undefined;
  let runner: Awaited<ReturnType<typeof servePglite>> | undefined;

  beforeAll(async () => {
    main = await servePglite();
    runner = await servePglite();
  });

  afterAll(async () => {
    await main?.stop();
    await runner?.stop();
  });

  migrationSuite(() => main!.url);

  it("applied the schema to the PGlite database itself", async () => {
    const res = await main!.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL",
    );
    expect(res.rows[0]?.n).toBe(migrationNames.length);
  });

  it("the migrations directory reproduces prisma/schema.prisma (in-memory PGlite shadow)", async () => {
    const r = await prisma(
      ["migrate", "diff", "--from-migrations", "prisma/migrations", "--to-schema", "prisma/schema.prisma", "--script"],
      main!.url,
    );
    expect(r.code, show(r)).toBe(0);
    expect(unexpectedDrift(r.stdout), show(r)).toEqual([]);
  });

  runnerAgreementSuite(() => runner!.url);
});
