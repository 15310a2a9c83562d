import { pool } from "../db";

export interface SnapshotMeta {
  id: number;
  reason: string;
  cursor: number;
  sizeBytes: number;
  createdAtMs: number;
}

export async function saveSnapshot(reason: string, cursor: number, state: Buffer, keep = 20): Promise<number> {
  const res = await pool().query<{ id: number }>(
    "INSERT INTO detector_snapshot (reason, cursor, size_bytes, state) VALUES ($1, $2, $3, $4) RETURNING id",
    [reason, cursor, state.length, state],
  );
  // Automatic snapshots keep the newest `keep` of their kind; ones a person asked for are kept.
  if (reason !== "manual") {
    await pool().query(
      `DELETE FROM detector_snapshot WHERE reason = $1 AND id NOT IN
         (SELECT id FROM detector_snapshot WHERE reason = $1 ORDER BY id DESC LIMIT $2)`,
      [reason, keep],
    );
  }
  return res.rows[0]!.id;
}

export async function loadSnapshot(id?: number): Promise<{ meta: SnapshotMeta; state: Buffer } | null> {
  const res = await pool().query(
    `SELECT id, reason, cursor, size_bytes, (extract(epoch FROM created_at) * 1000)::float8 AS created, state
     FROM detector_snapshot ${id === undefined ? "" : "WHERE id = $1"} ORDER BY id DESC LIMIT 1`,
    id === undefined ? [] : [id],
  );
  const r = res.rows[0];
  if (!r) return null;
  return {
    meta: { id: r.id, reason: r.reason, cursor: r.cursor, sizeBytes: r.size_bytes, createdAtMs: r.created },
    state: r.state as Buffer,
  };
}

export async function listSnapshots(): Promise<SnapshotMeta[]> {
  const res = await pool().query(
    `SELECT id, reason, cursor, size_bytes, (extract(epoch FROM created_at) * 1000)::float8 AS created
     FROM detector_snapshot ORDER BY id DESC LIMIT 100`,
  );
  return res.rows.map((r) => ({ id: r.id, reason: r.reason, cursor: r.cursor, sizeBytes: r.size_bytes, createdAtMs: r.created }));
}
