/**
 * `npm start`: one command that validates settings, opens the database (PostgreSQL from
 * DATABASE_URL, or the embedded PGlite it hosts itself), applies migrations, builds the web app
 * when sources changed, then runs the web process (server/web/main.ts: the built Next app behind
 * a custom server that answers the ingest writes itself) and the worker as child processes.
 * Any bad setting stops it at once with one clear message.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import { resolveDatabase, findRunningEmbedded } from "../server/embedded/embedded-db";
import { ConfigError, parseEnv, type TEnv } from "../server/env";
import { migrate } from "../server/migrate";
import { ensureIngestToken } from "../server/services/auth/ingest-token";
import { mallocEnv } from "../server/web/malloc-env";
import { WorkerRestarts } from "./worker-restarts";

const root = path.resolve(import.meta.dirname, "..");

function fail(message: string): never {
  console.error(`\nOmen cannot start: ${message}\n`);
  process.exit(1);
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}

async function checkPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const srv = net.createServer();
    srv.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE") fail(`port ${port} on ${host} is already in use. Stop whatever uses it, or choose another port with PORT=…`);
      if (e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND") fail(`HOST=${host} is not an address of this machine.`);
      fail(`cannot listen on ${host}:${port}: ${e.message}`);
    });
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}

async function checkDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (e) {
    fail(
      `cannot connect to DATABASE_URL ${redact(url)}: ${(e as Error).message || (e as NodeJS.ErrnoException).code}. ` +
        `Check that PostgreSQL is running and the URL (host, port, user, database) is right, or unset DATABASE_URL to use the embedded database.`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name.startsWith(".") || e.name === "generated") continue;
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function needsBuild(): boolean {
  const stamp = path.join(root, ".next", "BUILD_ID");
  if (!fs.existsSync(stamp)) return true;
  const built = fs.statSync(stamp).mtimeMs;
  const sources = ["app", "components", "server", "lib"].map((d) => newestMtime(path.join(root, d)));
  const files = ["package.json", "next.config.mjs", "tsconfig.json", "tsconfig.build.json"].map((f) => (fs.existsSync(path.join(root, f)) ? fs.statSync(path.join(root, f)).mtimeMs : 0));
  return Math.max(...sources, ...files) > built;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: "inherit" });
    child.on("exit", (code) => resolve(code ?? 1));
  });
}

async function waitForHealth(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const h = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://${h.includes(":") ? `[${h}]` : h}:${port}/api/health`);
      if (res.status < 500) return true;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

/** Generates the ingest token on first start and prints it once (afterwards: tokens on Settings → API tokens). */
async function printIngestTokenOnce(url: string, fromEnv: string | undefined): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const t = await ensureIngestToken(client, fromEnv);
    if (t.origin === "generated") {
      console.log(
        `[omen] ingest token (shown once, never again): ${t.token}\n` +
          `[omen]   remote_write / OTLP / CSV senders send it as "Authorization: Bearer <token>"; set OMEN_INGEST_TOKEN to choose your own, or create tokens on Settings → API tokens.`,
      );
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  let env: TEnv;
  try {
    env = parseEnv();
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  await checkPortFree(env.HOST, env.PORT);
  if (env.DATABASE_URL) await checkDatabase(env.DATABASE_URL);
  else {
    const other = await findRunningEmbedded(env.dataDir);
    if (other) fail(`another Omen (pid ${other.pid}) is already running with data directory ${env.dataDir}. Stop it first, or set OMEN_DATA_DIR to another directory.`);
  }
  if (env.OMEN_WORKERS > 1 && !env.OMEN_NATS_URL) {
    fail("OMEN_WORKERS > 1 needs OMEN_NATS_URL: without NATS JetStream one worker scores every stream (see docs/scale-out.md).");
  }
  const { url, embedded, mode } = await resolveDatabase(env.DATABASE_URL, env.dataDir);
  const migrated = await migrate(url).catch((e: Error) => fail(`database migration failed: ${e.message}`));
  console.log(
    `[omen] database: ${mode === "embedded" ? `embedded PGlite in ${path.join(env.dataDir, "pgdata")}` : redact(url)}; ` +
      `migrations applied ${migrated.applied.length}, up to date ${migrated.alreadyApplied}`,
  );
  await printIngestTokenOnce(url, env.OMEN_INGEST_TOKEN);

  // the web process and the worker inherit this environment and validate it themselves
  // eslint-disable-next-line no-restricted-properties
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...mallocEnv(process.env), DATABASE_URL: url, OMEN_DATA_DIR: env.dataDir, NEXT_TELEMETRY_DISABLED: "1" };
  const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
  if (!env.OMEN_SKIP_BUILD && needsBuild()) {
    console.log("[omen] building the web app (first start or sources changed)…");
    const code = await run(process.execPath, [nextBin, "build"], childEnv);
    if (code !== 0) {
      await embedded?.stop();
      fail("`next build` failed; see the output above.");
    }
  }

  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once("exit", r)))));
    await embedded?.stop();
    process.exit(code);
  };
  const spawnChild = (args: string[], extra: Record<string, string>) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...childEnv, ...extra }, stdio: "inherit" });
    children.push(child);
    child.once("exit", () => children.splice(children.indexOf(child), 1));
    return child;
  };
  const guard = ["--require", path.join(root, "scripts", "exit-with-parent.cjs")];
  // The web process serving nothing is not recoverable from here: exit non-zero, so that
  // systemd or Docker restarts Omen.
  const web = spawnChild([...guard, "--import", "tsx", path.join(root, "server", "web", "main.ts")], { HOST: env.HOST, PORT: String(env.PORT) });
  web.on("exit", (code, signal) => {
    if (stopping) return;
    console.error(`[omen] web exited (${signal ?? code}); stopping Omen.`);
    void stopAll(1);
  });
  // The worker is restarted with back-off (it resumes from its snapshot); ingest answers 503
  // while it is down. Crashing again and again (a bad database, a bug) stops Omen non-zero.
  // OMEN_WORKERS > 1 (scale-out, needs OMEN_NATS_URL): the workers share the partitions, each
  // supervised on its own
  const startWorker = (i: number, restarts = new WorkerRestarts()) => {
    const startedAt = Date.now();
    const worker = spawnChild([...guard, "--import", "tsx", path.join(root, "server", "worker", "main.ts")], {
      OMEN_SKIP_MIGRATE: "1",
      ...(env.OMEN_WORKERS === 1 ? {} : { OMEN_WORKER_NAME: `${env.OMEN_WORKER_NAME}-${i}` }),
    });
    worker.on("exit", (code, signal) => {
      if (stopping) return;
      const delay = restarts.next(Date.now(), Date.now() - startedAt);
      if (delay === null) {
        console.error(`[omen] worker exited (${signal ?? code}) ${restarts.limit} times within ${restarts.windowMs / 1000} s; stopping Omen.`);
        void stopAll(1);
        return;
      }
      console.error(`[omen] worker exited (${signal ?? code}); restarting it in ${delay / 1000} s.`);
      setTimeout(() => {
        if (!stopping) startWorker(i, restarts);
      }, delay);
    });
  };
  for (let i = 1; i <= env.OMEN_WORKERS; i++) startWorker(i);
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  if (await waitForHealth(env.HOST, env.PORT, 60_000)) {
    console.log(`[omen] ready: http://${env.HOST === "0.0.0.0" ? "127.0.0.1" : env.HOST}:${env.PORT}  (Ctrl-C to stop)`);
  } else {
    console.error("[omen] the web app did not answer /api/health within 60 s");
    await stopAll(1);
  }
}

main().catch((e: unknown) => fail((e as Error).stack ?? String(e)));
