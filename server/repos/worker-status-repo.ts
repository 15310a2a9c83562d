import pg from "pg";
import { databaseUrl, isEmbeddedUrl, pool } from "../db";

/**
 * Health and status reads go over a small pool of their own: under heavy ingest the main pool's
 * connections are all busy committing, and /api/health must not queue behind them.
 */
let statusPool: { url: string; pool: pg.Pool } | undefined;
function statusDb(): pg.Pool {
  const url = databaseUrl();
  if (isEmbeddedUrl(url)) return pool();
  if (!statusPool || statusPool.url !== url) {
    const p = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000, application_name: "omen-health" });
    p.on("error", () => undefined); // a dropped idle connection is replaced on next use
    statusPool = { url, pool: p };
  }
  return statusPool.pool;
}

/**
 * A worker whose heartbeat (every 5 s, off its job chain) is older than this is down or frozen
 * (crashed, SIGSTOPped, its host asleep).
 */
export const WORKER_STALE_MS = 20_000;

export interface WorkerStatusRow {
  name: string;
  pid: number;
  startedAtMs: number;
  heartbeatAtMs: number;
  cursor: number;
  info: Record<string, unknown>;
}

export async function heartbeat(s: Omit<WorkerStatusRow, "heartbeatAtMs" | "startedAtMs"> & { startedAtMs: number }): Promise<void> {
  await pool().query(
    `INSERT INTO worker_status (name, pid, started_at, heartbeat_at, cursor, info)
     VALUES ($1, $2, to_timestamp($3 / 1000.0), now(), $4, $5::jsonb)
     ON CONFLICT (name) DO UPDATE SET pid = EXCLUDED.pid, started_at = EXCLUDED.started_at,
       heartbeat_at = now(), cursor = EXCLUDED.cursor, info = EXCLUDED.info`,
    [s.name, s.pid, s.startedAtMs, s.cursor, JSON.stringify(s.info)],
  );
}

/** A cleanly stopped worker: its row stays (for the record) with `info.stopped`. */
export async function markWorkerStopped(name: string): Promise<void> {
  await pool().query(`UPDATE worker_status SET info = info || '{"stopped": true}'::jsonb WHERE name = $1`, [name]);
}

export async function readWorkerStatus(): Promise<WorkerStatusRow[]> {
  const res = await statusDb().query(
    `SELECT name, pid, (extract(epoch FROM started_at) * 1000)::float8 AS started, (extract(epoch FROM heartbeat_at) * 1000)::float8 AS beat,
            cursor, info FROM worker_status ORDER BY name`,
  );
  return res.rows.map((r) => ({
    name: r.name,
    pid: r.pid,
    startedAtMs: r.started,
    heartbeatAtMs: r.beat,
    cursor: r.cursor,
    info: r.info,
  }));
}

/** The newest `seq` handed out (see storage/samples' `sequenceHead`), over the status connections. */
export async function statusSequenceHead(): Promise<number> {
  const res = await statusDb().query<{ v: number | null }>("SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS v FROM sample_block_seq_seq");
  return Number(res.rows[0]?.v ?? 0);
}

/** Database round-trip check for /api/health. */
export async function ping(): Promise<number> {
  const t0 = performance.now();
  await statusDb().query("SELECT 1");
  return performance.now() - t0;
}
