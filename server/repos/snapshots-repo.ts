import { z } from "zod";
import { pool } from "../db";
import { writeLargeBytea, type ByteaWriteOptions } from "./bytea-chunks";
import { byteaSlices, joinSlices } from "./bytea-slices";
import { queryRows, ZMs } from "./rows";

export interface SnapshotMeta {
  id: number;
  reason: string;
  cursor: number;
  sizeBytes: number;
  createdAtMs: number;
}

const ZMeta = z.object({ id: z.number(), reason: z.string(), cursor: z.number(), size_bytes: z.number(), created: ZMs });
const toMeta = (r: z.output<typeof ZMeta>): SnapshotMeta => ({ id: r.id, reason: r.reason, cursor: r.cursor, sizeBytes: r.size_bytes, createdAtMs: r.created });
// a scale-out snapshot's size is its partitions' total (its own `state` is empty)
const META_COLUMNS = "id, reason, cursor, coalesce(total_bytes, size_bytes) AS size_bytes, (extract(epoch FROM created_at) * 1000)::float8 AS created";

/**
 * The state (megabytes of detector models) travels through pg, not through Prisma, in chunks
 * when it is large (bytea-chunks.ts): one transaction, so a failed save leaves the last one.
 */
export async function saveSnapshot(reason: string, cursor: number, state: Buffer, keep = 20, opts: ByteaWriteOptions = {}): Promise<number> {
  const res = await writeLargeBytea<{ id: number }>(
    state,
    [reason, cursor, state.length],
    (value) => `INSERT INTO detector_snapshot (reason, cursor, size_bytes, state) VALUES ($1, $2, $3, ${value}) RETURNING id`,
    opts,
  );
  await pruneSnapshots(reason, keep);
  return res.rows[0]!.id;
}

/**
 * Automatic snapshots keep the newest `keep` of their kind; ones a person asked for are kept. A
 * scale-out snapshot's partitions go with it (`detector_snapshot_part`, ON DELETE CASCADE).
 */
export async function pruneSnapshots(reason: string, keep: number): Promise<void> {
  if (reason === "manual") return;
  await pool().query(
    `DELETE FROM detector_snapshot WHERE reason = $1 AND id NOT IN
       (SELECT id FROM detector_snapshot WHERE reason = $1 ORDER BY id DESC LIMIT $2)`,
    [reason, keep],
  );
}

// a snapshot passes node-pg's limit on one field from ~50,000 streams (bytea-slices.ts)
const STATE = byteaSlices("s.state");

export async function loadSnapshot(id?: number): Promise<{ meta: SnapshotMeta; state: Buffer } | null> {
  const rows = await queryRows(
    pool(),
    ZMeta.extend({ slice_no: z.number(), slice: z.instanceof(Buffer) }),
    `SELECT ${META_COLUMNS}, ${STATE.select}
     FROM (SELECT * FROM detector_snapshot ${id === undefined ? "" : "WHERE id = $1"} ORDER BY id DESC LIMIT 1) s ${STATE.join}
     ORDER BY g.slice_no`,
    id === undefined ? [] : [id],
  );
  return rows.length ? { meta: toMeta(rows[0]!), state: joinSlices(rows) } : null;
}

export async function listSnapshots(): Promise<SnapshotMeta[]> {
  const rows = await queryRows(pool(), ZMeta, `SELECT ${META_COLUMNS} FROM detector_snapshot ORDER BY id DESC LIMIT 100`);
  return rows.map(toMeta);
}
