/**
 * Runs the real Omen web process (server/web/main.ts: the custom server in front of the built
 * Next app, as `npm start` runs it) — and optionally the worker — against a test database, for
 * integration tests that talk HTTP with real clients. Builds the app first when
 * `.next/BUILD_ID` is older than the sources (the same rule as `npm start`).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { mallocEnv } from "../web/malloc-env";

const root = path.resolve(import.meta.dirname, "..", "..");
const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");

function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", (e: NodeJS.ErrnoException) => (port !== 0 && e.code === "EADDRINUSE" ? resolve(null) : reject(e)));
    srv.listen(port, "127.0.0.1", () => {
      const bound = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(bound));
    });
  });
}

/** Ports handed out by `freePort` in this process (so two calls before either binds differ). */
const handedOut = new Set<number>();

/**
 * A free loopback port: any the system picks, or one of OMEN_TEST_PORTS (`3500-3549`) when
 * set, for machines where several people's tests share the port space.
 */
export async function freePort(): Promise<number> {
  const range = /^(\d+)-(\d+)$/.exec(process.env.OMEN_TEST_PORTS ?? "");
  if (!range) return (await tryListen(0))!;
  const lo = Number(range[1]);
  const size = Number(range[2]) - lo + 1;
  const offset = Math.floor(Math.random() * size);
  // first ports not handed out yet, then any (a long run may use more than the range holds)
  for (const fresh of [true, false]) {
    for (let i = 0; i < size; i++) {
      const port = lo + ((offset + i) % size);
      if (fresh && handedOut.has(port)) continue;
      if ((await tryListen(port)) !== null) {
        handedOut.add(port);
        return port;
      }
    }
  }
  throw new Error(`no free port in OMEN_TEST_PORTS=${process.env.OMEN_TEST_PORTS}`);
}

function newestMtime(dir: string): number {
  let newest = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name.startsWith(".") || e.name === "generated") continue;
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : /\.test\.tsx?$/.test(e.name) ? 0 : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the Next app unless `.next/BUILD_ID` is newer than every source file. */
export function ensureBuilt(): void {
  const stamp = path.join(root, ".next", "BUILD_ID");
  const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
  const newest = Math.max(...["app", "components", "server", "lib"].map((d) => newestMtime(path.join(root, d))));
  if (built > newest || process.env.OMEN_TEST_SKIP_BUILD === "1") return;
  const r = spawnSync(process.execPath, [nextBin, "build"], {
    cwd: root,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`next build failed:\n${r.stdout}\n${r.stderr}`);
}

export interface OmenServer {
  url: string;
  token: string;
  /** OMEN_API_TOKEN: a token with the read scope (read API, detect API) */
  readToken: string;
  /** Process ids of what was started (for per-process CPU accounting, e.g. bench:ingest). */
  pids: { web: number; worker?: number };
  logs(): string;
  /** Signs in (default: the first admin, whose password this helper sets) and returns the Cookie header value. */
  signIn(username?: string, password?: string): Promise<string>;
  stop(): Promise<void>;
}

/** The first admin's password in servers this helper starts (OMEN_ADMIN_PASSWORD). */
export const TEST_ADMIN_PASSWORD = "test-admin-password-0123";

function waitExit(c: ChildProcess): Promise<void> {
  return c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once("exit", () => r()));
}

export interface OmenServerOptions {
  databaseUrl: string;
  token?: string;
  worker?: boolean;
  env?: Record<string, string>;
}

const TEST_READ_TOKEN = "test-read-token-0123456789abcdef";

/** Starts the web process on a free loopback port (plus the worker if asked) and waits for health. */
export async function startOmenServer(opts: OmenServerOptions): Promise<OmenServer> {
  ensureBuilt();
  const port = await freePort();
  const token = opts.token ?? "test-ingest-token-0123456789abcdef";
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...mallocEnv(process.env),
    DATABASE_URL: opts.databaseUrl,
    OMEN_INGEST_TOKEN: token,
    OMEN_API_TOKEN: TEST_READ_TOKEN,
    OMEN_DISABLE_HOST_COLLECTOR: "1",
    OMEN_SKIP_MIGRATE: "1",
    OMEN_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    NEXT_TELEMETRY_DISABLED: "1",
    ...opts.env,
  };
  let out = "";
  const children: ChildProcess[] = [];
  const start = (args: string[], extra: Record<string, string> = {}) => {
    const c = spawn(process.execPath, args, { cwd: root, env: { ...env, ...extra }, stdio: ["ignore", "pipe", "pipe"] });
    c.stdout!.on("data", (d) => (out += d));
    c.stderr!.on("data", (d) => (out += d));
    children.push(c);
    return c;
  };
  // OMEN_TEST_WEB_NODE_ARGS: extra node flags for the web process (e.g. --cpu-prof, for profiling under a bench)
  const webNodeArgs = process.env.OMEN_TEST_WEB_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const web = start([...webNodeArgs, "--import", "tsx", path.join(root, "server", "web", "main.ts")], { HOST: "127.0.0.1", PORT: String(port) });
  const worker = opts.worker ? start(["--import", "tsx", path.join(root, "server", "worker", "main.ts")], { OMEN_WORKER_NAME: `test-worker-${port}` }) : undefined;
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    const killer = setTimeout(() => children.forEach((c) => c.exitCode === null && c.kill("SIGKILL")), 10_000);
    await Promise.all(children.map(waitExit));
    clearTimeout(killer);
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (web.exitCode !== null) throw new Error(`the web process exited (${web.exitCode}):\n${out}`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.status < 500) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Omen did not answer /api/health within 120 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const signIn = async (username = "admin", password = (opts.env?.OMEN_ADMIN_PASSWORD ?? TEST_ADMIN_PASSWORD)) => {
    const res = await fetch(`${url}/api/auth/sign-in/username`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
    if (!res.ok) throw new Error(`sign-in as ${username} failed: HTTP ${res.status} ${await res.text()}`);
    return res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  };
  return { url, token, readToken: TEST_READ_TOKEN, pids: { web: web.pid!, ...(worker ? { worker: worker.pid! } : {}) }, logs: () => out, signIn, stop };
}
