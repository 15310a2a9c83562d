import { pool } from "../db";

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
  const res = await pool().query(
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

/** Database round-trip check for /api/health. */
export async function ping(): Promise<number> {
  const t0 = performance.now();
  await pool().query("SELECT 1");
  return performance.now() - t0;
}
