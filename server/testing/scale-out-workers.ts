/**
 * Test harness shared by the scale-out integration tests: is a NATS server there, wait for a
 * condition, a real worker process (`server/worker/main.ts`) joined to a partitioned log, and
 * the database and log a test runs them against (`openScaleOutWorld`), and what was stored and
 * scored.
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { connect } from "@nats-io/transport-node";
import { pool } from "../db";
import { natsCommitSink } from "../nats/commit-publisher";
import { destroySampleLog, openSampleLog, type SampleLog } from "../nats/sample-log";
import { setCommitSink } from "../services/ingest/group-commit";
import { createTestDatabase, type TestDatabase } from "./test-db";

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

/**
 * For one source's streams: samples stored, samples scored (distinct stream and time), score
 * rows written, and the most score rows any one sample has (1 when each was scored once).
 */
export async function measureScoring(source: string): Promise<{ stored: number; scored: number; scoreRows: number; maxRowsPerSample: number }> {
  const ids = (await pool().query<{ id: number }>("SELECT s.id FROM stream s JOIN source o ON o.id = s.source_id WHERE o.name = $1", [source])).rows.map((r) => r.id);
  const stored = await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM sample WHERE stream_id = ANY($1::int[])", [ids]);
  const scores = await pool().query<{ distinct: number; rows: number; max: number | null }>(
    `SELECT count(*)::int AS distinct, coalesce(sum(n), 0)::int AS rows, max(n)::int AS max FROM (
       SELECT count(*) AS n FROM score_block b JOIN unnest($1::int[]) AS s(id) ON b.block = s.id / 32 AND b.mask & (1 << (s.id % 32)) <> 0
       GROUP BY s.id, b.ts) per_sample`,
    [ids],
  );
  const r = scores.rows[0]!;
  return { stored: stored.rows[0]!.n, scored: r.distinct, scoreRows: r.rows, maxRowsPerSample: r.max ?? 0 };
}

/**
 * What a scale-out test runs against: a fresh PostgreSQL database, a sample log under a random
 * prefix on the NATS server, this process's commits published to it (as the web process does
 * in scale-out mode), and the worker processes it starts. `close` kills the workers (SIGKILL)
 * and removes everything.
 */
export interface ScaleOutWorld {
  tdb: TestDatabase;
  log: SampleLog;
  prefix: string;
  /** the workers' stdout and stderr */
  output: string[];
  workers: Map<string, ChildProcess>;
  startWorker(name: string, env?: Record<string, string>): ChildProcess;
  close(): Promise<void>;
}

export async function openScaleOutWorld(o: { natsUrl: string; partitions: number; name: string }): Promise<ScaleOutWorld> {
  const tdb = await createTestDatabase("postgres");
  const prefix = `omen_t_${crypto.randomBytes(4).toString("hex")}`;
  const log = await openSampleLog({ url: o.natsUrl, prefix, partitions: o.partitions }, o.name);
  const sink = natsCommitSink(log);
  setCommitSink(sink.sink, sink.outbox);
  const output: string[] = [];
  const workers = new Map<string, ChildProcess>();
  return {
    tdb,
    log,
    prefix,
    output,
    workers,
    startWorker(name, env) {
      const child = spawnScaleOutWorker({ name, databaseUrl: tdb.url, natsUrl: o.natsUrl, prefix, partitions: o.partitions, output, env });
      workers.set(name, child);
      return child;
    },
    async close() {
      for (const c of workers.values()) if (c.exitCode === null) c.kill("SIGKILL");
      setCommitSink(null);
      sink.close();
      await destroySampleLog(log);
      await log.close();
      await tdb.drop();
    },
  };
}
