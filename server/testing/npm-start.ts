/**
 * `npm start` (scripts/start.ts) as a user runs it, in a process group of its own so that a test
 * can `kill -9` the whole group, `npm start` alone or one of its children, and start it again: on PostgreSQL
 * (`databaseUrl`) or on the embedded PGlite it hosts in `dataDir` (no `databaseUrl`). Expects a
 * built app (see `ensureBuilt`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..", "..");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a value (errors count as "not yet"). */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface NpmStartOptions {
  port: number;
  /** PostgreSQL; without it, the embedded database in `dataDir` */
  databaseUrl?: string;
  dataDir: string;
  /** OMEN_INGEST_TOKEN */
  token: string;
  env?: Record<string, string>;
}

export class NpmStart {
  child: ChildProcess | null = null;
  /** the newest 40,000 characters of its output */
  log = "";

  constructor(readonly opts: NpmStartOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.opts.port}`;
  }

  /** Starts it and waits until /api/health answers 200. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
      cwd: root,
      detached: true,
      env: {
        ...process.env,
        DATABASE_URL: this.opts.databaseUrl ?? "",
        PORT: String(this.opts.port),
        HOST: "127.0.0.1",
        OMEN_DATA_DIR: this.opts.dataDir,
        OMEN_SKIP_BUILD: "1",
        OMEN_INGEST_TOKEN: this.opts.token,
        OMEN_DISABLE_HOST_COLLECTOR: "1",
        NEXT_TELEMETRY_DISABLED: "1",
        ...this.opts.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    const keep = (b: Buffer) => {
      this.log = (this.log + b.toString()).slice(-40_000);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    await until(
      "Omen's /api/health",
      async () => {
        if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}):\n${this.log}`);
        return (await fetch(`${this.url}/api/health`)).status === 200 ? true : undefined;
      },
      180_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${this.log}`);
    });
  }

  /** The process id of its web process or worker (by /proc), or null. */
  childPid(which: "web" | "worker"): number | null {
    const script = path.join(which, "main.ts");
    for (const d of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid !== this.child?.pid) continue;
        // the web process renames itself (process.title), which replaces its command line
        const cmd = fs.readFileSync(`/proc/${d}/cmdline`, "utf8");
        if (cmd.includes(script) || cmd.startsWith(`omen-${which}`)) return Number(d);
      } catch {
        /* gone */
      }
    }
    return null;
  }

  /** The URL its database answers on (the embedded one's from `embedded.json`). */
  databaseUrl(): string {
    if (this.opts.databaseUrl) return this.opts.databaseUrl;
    return (JSON.parse(fs.readFileSync(path.join(this.opts.dataDir, "embedded.json"), "utf8")) as { url: string }).url;
  }

  private exited(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
    return new Promise((r) => c.once("exit", () => r()));
  }

  private async portClosed(): Promise<void> {
    await until(
      "the port to close",
      async () => {
        try {
          await fetch(`${this.url}/api/health`);
          return undefined;
        } catch {
          return true;
        }
      },
      60_000,
    );
  }

  /** `kill -9` of the whole group: `npm start`, the web process, the worker (and the embedded database it hosts). */
  async killGroup(): Promise<void> {
    const exited = this.exited();
    process.kill(-this.child!.pid!, "SIGKILL");
    await exited;
    await this.portClosed();
  }

  /** `kill -9` of `npm start` alone: its web process and worker notice the dead parent and exit. */
  async killParent(): Promise<void> {
    const exited = this.exited();
    process.kill(this.child!.pid!, "SIGKILL");
    await exited;
    await this.portClosed();
  }

  /** `kill -9` of the worker alone; resolves once `npm start` has started a new one (after its back-off). */
  async killWorker(): Promise<void> {
    const pid = await until("the worker process", async () => this.childPid("worker") ?? undefined, 60_000);
    process.kill(pid, "SIGKILL");
    await until(
      "a restarted worker",
      async () => {
        const p = this.childPid("worker");
        return p !== null && p !== pid ? p : undefined;
      },
      60_000,
    );
  }

  /**
   * `kill -9` of the web process alone. `npm start` then stops the rest and exits non-zero (a
   * supervisor restarts it); resolves once it has, with its exit code.
   */
  async killWeb(): Promise<number | null> {
    const pid = this.childPid("web");
    if (pid === null) throw new Error("no web process");
    const exited = this.exited();
    process.kill(pid, "SIGKILL");
    await Promise.race([exited, sleep(60_000)]);
    await this.portClosed();
    return this.child!.exitCode;
  }

  /** Stops it as Ctrl-C does (SIGTERM to the group), then SIGKILL after 60 s. */
  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = this.exited();
    process.kill(-c.pid!, "SIGTERM");
    await Promise.race([exited, sleep(60_000)]);
    try {
      process.kill(-c.pid!, "SIGKILL");
    } catch {
      /* gone */
    }
  }
}
