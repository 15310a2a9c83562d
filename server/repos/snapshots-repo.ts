import { z } from "zod";
import { pool } from "../db";
import { chunkCount, readChunks, writeChunks, type ByteaWriteOptions, type ChunkTable } from "./bytea-chunks";
import { byteaSlices, joinSlices } from "./bytea-slices";
import { queryRow, queryRows, ZByteCount, ZMs } from "./rows";
import { inReadSnapshot, inTransaction } from "./transaction";

export interface SnapshotMeta {
  id: number;
  reason: string;
  cursor: number;
  sizeBytes: number;
  createdAtMs: number;
}

const ZMeta = z.object({ id: z.number(), reason: z.string(), cursor: z.number(), size_bytes: ZByteCount("detector_snapshot size"), created: ZMs });
const toMeta = (r: z.output<typeof ZMeta>): SnapshotMeta => ({ id: r.id, reason: r.reason, cursor: r.cursor, sizeBytes: r.size_bytes, createdAtMs: r.created });
// a scale-out snapshot's size is its partitions' total (its own `state` is empty)
const META_COLUMNS = "id, reason, cursor, coalesce(total_bytes, size_bytes) AS size_bytes, (extract(epoch FROM created_at) * 1000)::float8 AS created";

/** A large single-worker state's rows (bytea-chunks.ts); deleted with their snapshot. */
const DETECTOR_SNAPSHOT_CHUNKS: ChunkTable = { name: "detector_snapshot_chunk", key: ["snapshot_id"] };

const ZId = z.object({ id: z.number() });
const INSERT = "INSERT INTO detector_snapshot (reason, cursor, size_bytes, state, chunk_count) VALUES ($1, $2, $3, $4, $5) RETURNING id";

/**
 * The state (megabytes of detector models) travels through pg, not through Prisma, as a row per
 * chunk when it is large (bytea-chunks.ts): one transaction, so a failed save leaves the last one.
 */
export async function saveSnapshot(reason: string, cursor: number, state: Buffer, keep = 20, opts: ByteaWriteOptions = {}): Promise<number> {
  const n = chunkCount(state, opts);
  const id =
    n === 0
      ? (await queryRow(pool(), ZId, INSERT, [reason, cursor, state.length, state, 0]))!.id
      : await inTransaction(async (client) => {
          const row = (await queryRow(client, ZId, INSERT, [reason, cursor, state.length, Buffer.alloc(0), n]))!;
          await writeChunks(client, DETECTOR_SNAPSHOT_CHUNKS, [row.id], state, opts);
          return row.id;
        });
  await pruneSnapshots(reason, keep);
  return id;
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

// an inline snapshot (written before chunk rows) passes node-pg's limit on one field from
// ~50,000 streams (bytea-slices.ts)
const STATE = byteaSlices("state");

/** The newest snapshot, or snapshot `id`: its row and its state's chunks read in one MVCC snapshot. */
export async function loadSnapshot(id?: number): Promise<{ meta: SnapshotMeta; state: Buffer } | null> {
  return inReadSnapshot(async (client) => {
    const head = await queryRow(
      client,
      ZMeta.extend({ chunk_count: z.number(), state_bytes: ZByteCount("detector_snapshot.size_bytes") }),
      `SELECT ${META_COLUMNS}, chunk_count, size_bytes AS state_bytes FROM detector_snapshot ${id === undefined ? "" : "WHERE id = $1"} ORDER BY id DESC LIMIT 1`,
      id === undefined ? [] : [id],
    );
    if (!head) return null;
    const state =
      head.chunk_count > 0
        ? await readChunks(client, DETECTOR_SNAPSHOT_CHUNKS, [head.id], head.chunk_count, head.state_bytes)
        : joinSlices(
            await queryRows(client, z.object({ slice: z.instanceof(Buffer) }), `SELECT ${STATE.select} FROM detector_snapshot ${STATE.join} WHERE id = $1 ORDER BY g.slice_no`, [head.id]),
          );
    return { meta: toMeta(head), state };
  });
}

export async function listSnapshots(): Promise<SnapshotMeta[]> {
  const rows = await queryRows(pool(), ZMeta, `SELECT ${META_COLUMNS} FROM detector_snapshot ORDER BY id DESC LIMIT 100`);
  return rows.map(toMeta);
}
