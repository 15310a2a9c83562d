/**
 * Test harness shared by the scale-out integration tests: is a NATS server there, wait for a
 * condition, and a real worker process (`server/worker/main.ts`) joined to a partitioned log.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { connect } from "@nats-io/transport-node";

const root = path.resolve(import.meta.dirname, "..", "..");

/** Why the NATS server at `url` cannot be reached, or null when it can. */
export async function natsUnreachable(url: string): Promise<string | null> {
  try {
    const nc = await connect({ servers: url, timeout: 2_000, reconnect: false });
    await nc.close();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Polls `fn` every `pollMs` until it returns something truthy; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number, pollMs = 100): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export interface WorkerOptions {
  name: string;
  databaseUrl: string;
  natsUrl: string;
  prefix: string;
  partitions: number;
  /** Collects the worker's stdout and stderr, each chunk tagged with its name. */
  output: string[];
  env?: Record<string, string>;
}

/** Starts one scale-out worker process (migrations already applied, no host collector). */
export function spawnScaleOutWorker(o: WorkerOptions): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "server", "worker", "main.ts")], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: o.databaseUrl,
      OMEN_NATS_URL: o.natsUrl,
      OMEN_NATS_PREFIX: o.prefix,
      OMEN_PARTITIONS: String(o.partitions),
      OMEN_WORKER_NAME: o.name,
      OMEN_SKIP_MIGRATE: "1",
      OMEN_DISABLE_HOST_COLLECTOR: "1",
      ...o.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d: Buffer) => o.output.push(`${o.name}: ${d.toString()}`));
  child.stderr!.on("data", (d: Buffer) => o.output.push(`${o.name} (stderr): ${d.toString()}`));
  return child;
}
