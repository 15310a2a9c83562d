/**
 * `npm test`: every test, in order: typecheck, lint (the layering, eslint.config.mjs), unit, integration (real PostgreSQL when one is
 * reachable, plus embedded PGlite), then Playwright e2e in Debian's Chromium.
 * PostgreSQL: TEST_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres
 * if it answers; without a server the integration suite runs on PGlite only.
 * `npm test -- unit|int|e2e` runs one stage.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";

const root = path.resolve(import.meta.dirname, "..");
const only = process.argv[2];

async function findPostgres(): Promise<string | undefined> {
  const candidates = [process.env.TEST_DATABASE_URL, process.env.DATABASE_URL, "postgres://postgres@127.0.0.1:5432/postgres"];
  for (const url of candidates) {
    if (!url) continue;
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await c.connect();
      await c.query("SELECT 1");
      return url;
    } catch {
      /* try the next one */
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  return undefined;
}

function step(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  console.log(`\n=== ${name}: ${cmd} ${args.join(" ")}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: "inherit" });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) {
    console.error(`\n=== ${name} FAILED after ${secs}s`);
    process.exit(r.status ?? 1);
  }
  console.log(`=== ${name} passed in ${secs}s`);
}

const bin = (name: string) => path.join(root, "node_modules", ".bin", name);

async function main(): Promise<void> {
  if (!only || only === "unit") {
    step("typecheck", bin("tsc"), ["--noEmit"]);
    step("lint", bin("eslint"), ["."]);
    step("unit", bin("vitest"), ["run", "--project", "unit"]);
  }
  if (!only || only === "int") {
    const pgUrl = await findPostgres();
    console.log(pgUrl ? `integration database server: ${pgUrl.replace(/:[^:@/]*@/, ":****@")}` : "no PostgreSQL server reachable: integration tests use embedded PGlite only");
    const env: NodeJS.ProcessEnv = { ...process.env, TEST_DATABASE_URL: pgUrl ?? "" };
    delete env.DATABASE_URL;
    step("integration", bin("vitest"), ["run", "--project", "integration"], env);
  }
  if (!only || only === "e2e") {
    const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
    if (!fs.existsSync(chromium)) {
      console.error(`Chromium not found at ${chromium}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH.`);
      process.exit(1);
    }
    const env = { ...process.env };
    delete env.DATABASE_URL;
    step("e2e", bin("playwright"), ["test"], env);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
