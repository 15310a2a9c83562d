/**
 * A PostgreSQL cluster of its own for tests that restart or crash the database server (never the
 * machine's shared server): initdb into a temp directory, started with pg_ctl on a free port,
 * trust authentication on 127.0.0.1. Runs as the `postgres` OS user when started as root
 * (initdb refuses root).
 */
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./omen-server";

const BIN = process.env.OMEN_PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface ThrowawayPostgres {
  url(db?: string): string;
  port: number;
  /** Stops the server abruptly (`-m immediate`: a crash, WAL replay at the next start) and starts it again. */
  restart(mode?: "fast" | "immediate"): Promise<void>;
  /** Stops the server abruptly and leaves it down until `up()` (without blocking this process meanwhile). */
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

export function throwawayPostgresAvailable(): boolean {
  return fs.existsSync(path.join(BIN, "pg_ctl")) && fs.existsSync(path.join(BIN, "initdb"));
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omen-pg-"));
  const data = path.join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync("chown", ["-R", "postgres:postgres", dir]);
  const run = (bin: string, args: string[]) =>
    asRoot ? execFileSync("runuser", ["-u", "postgres", "--", path.join(BIN, bin), ...args], { stdio: "pipe" }) : execFileSync(path.join(BIN, bin), args, { stdio: "pipe" });
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=100`;
  const log = path.join(dir, "log");
  const start = () => run("pg_ctl", ["-D", data, "-l", log, "-o", opts, "-w", "-t", "60", "start"]);
  const runAsync = async (bin: string, args: string[]) => {
    if (asRoot) await promisify(execFile)("runuser", ["-u", "postgres", "--", path.join(BIN, bin), ...args]);
    else await promisify(execFile)(path.join(BIN, bin), args);
  };
  start();
  return {
    port,
    url: (db = "postgres") => `postgres://postgres@127.0.0.1:${port}/${db}`,
    async restart(mode = "immediate") {
      run("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"]);
      start();
    },
    down: () => runAsync("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]),
    up: () => runAsync("pg_ctl", ["-D", data, "-l", log, "-o", opts, "-w", "-t", "60", "start"]),
    async stop() {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        /* already down */
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
