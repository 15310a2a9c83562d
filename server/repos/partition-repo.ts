import type pg from "pg";
import { pool } from "../db";
import { chunkCount, readChunks, writeChunks, type ByteaWriteOptions, type ChunkTable } from "./bytea-chunks";
import { byteaSlices, joinSlices } from "./bytea-slices";
import { byteCount } from "./rows";
import { inReadSnapshot, inTransaction } from "./transaction";

/**
 * Scale-out state per partition of the JetStream sample log (`log` is the stream's name): the
 * scoring cursor, moved in the transaction that stores a message's scores, and the newest
 * detector snapshot. See docs/scale-out.md.
 */

export interface PartitionStart {
  /** newest detector state and the last message folded into it */
  snapshot: { msgSeq: number; state: Buffer; feedbackId: number; rollbackId: number } | null;
  /** last message whose scores are stored (0: none) */
  cursor: number;
  /** late samples of the messages up to the cursor, and of those the ones scored */
  late: { samples: number; scored: number };
}

/** A partition's large state as rows (bytea-chunks.ts): replaced with its snapshot, deleted with it. */
export const PARTITION_SNAPSHOT_CHUNKS: ChunkTable = { name: "partition_snapshot_chunk", key: ["log", "partition"] };

// an inline snapshot (written before chunk rows) passes node-pg's limit on one field from
// ~50,000 series (bytea-slices.ts); a chunked one has an empty `state`: one empty slice
const STATE = byteaSlices("state");

interface SnapshotRow {
  partition: number;
  msg_seq: string;
  feedback_id: string;
  rollback_id: string;
  chunk_count: number;
  /** BIGINT: read through `byteCount` */
  size_bytes: unknown;
  slice: Buffer;
}
const SNAPSHOT_COLUMNS = `partition, msg_seq, feedback_id, rollback_id, chunk_count, size_bytes, ${STATE.select}`;

/** The state of one partition's snapshot from its rows (slices of the inline value), or its chunks. */
async function stateOf(client: Pick<pg.PoolClient, "query">, log: string, rows: readonly SnapshotRow[]): Promise<Buffer> {
  const r = rows[0]!;
  return r.chunk_count > 0 ? readChunks(client, PARTITION_SNAPSHOT_CHUNKS, [log, r.partition], r.chunk_count, byteCount(r.size_bytes, "partition_snapshot.size_bytes")) : joinSlices(rows);
}

/** The partition's snapshot, the row and its chunks from one MVCC snapshot (null: none yet). */
async function readPartitionSnapshot(log: string, partition: number): Promise<{ row: SnapshotRow; state: Buffer } | null> {
  const sql = `SELECT ${SNAPSHOT_COLUMNS} FROM partition_snapshot ${STATE.join} WHERE log = $1 AND partition = $2 ORDER BY g.slice_no`;
  // an inline state comes whole in this one statement; chunks need the row read again with them
  const first = (await pool().query<SnapshotRow>(sql, [log, partition])).rows;
  if (!first.length || first[0]!.chunk_count === 0) return first.length ? { row: first[0]!, state: joinSlices(first) } : null;
  return inReadSnapshot(async (client) => {
    const rows = (await client.query<SnapshotRow>(sql, [log, partition])).rows;
    return rows.length ? { row: rows[0]!, state: await stateOf(client, log, rows) } : null;
  });
}

export async function readPartitionStart(log: string, partition: number): Promise<PartitionStart> {
  const [snap, cur] = await Promise.all([
    readPartitionSnapshot(log, partition),
    pool().query<{ msg_seq: string; late_samples: string; late_scored: string }>(
      "SELECT msg_seq, late_samples, late_scored FROM partition_cursor WHERE log = $1 AND partition = $2",
      [log, partition],
    ),
  ]);
  const c = cur.rows[0];
  return {
    snapshot: snap
      ? { msgSeq: Number(snap.row.msg_seq), state: snap.state, feedbackId: Number(snap.row.feedback_id), rollbackId: Number(snap.row.rollback_id) }
      : null,
    cursor: Number(c?.msg_seq ?? 0),
    late: { samples: Number(c?.late_samples ?? 0), scored: Number(c?.late_scored ?? 0) },
  };
}

/**
 * Keeps the newest snapshot of a partition (an older one, from a worker that lost the
 * partition, is ignored). `feedbackId`: the newest label folded into `state`; `rollbackId`: the
 * newest rollback. A snapshot at the same message replaces the stored one unless it holds older
 * labels (a manual snapshot renews it); none replaces one that holds a newer rollback (a stale
 * owner's pre-rollback state).
 */
export async function savePartitionSnapshot(
  log: string,
  partition: number,
  msgSeq: number,
  state: Buffer,
  feedbackId = 0,
  rollbackId = 0,
  opts: ByteaWriteOptions = {},
): Promise<void> {
  const n = chunkCount(state, opts);
  // the row first: it takes the row's lock, so the chunks deleted next are all the stored
  // ones (a concurrent save's included), and a stale save writes none
  await inTransaction(async (client) => {
    const saved = await client.query(
      `INSERT INTO partition_snapshot (log, partition, msg_seq, state, size_bytes, taken_at, feedback_id, rollback_id, chunk_count) VALUES ($1, $2, $3, $4, $5, now(), $6, $7, $8)
       ON CONFLICT (log, partition) DO UPDATE SET msg_seq = EXCLUDED.msg_seq, state = EXCLUDED.state, size_bytes = EXCLUDED.size_bytes, taken_at = now(),
         feedback_id = EXCLUDED.feedback_id, rollback_id = EXCLUDED.rollback_id, chunk_count = EXCLUDED.chunk_count
       WHERE partition_snapshot.rollback_id <= EXCLUDED.rollback_id AND (
             partition_snapshot.msg_seq < EXCLUDED.msg_seq
          OR (partition_snapshot.msg_seq = EXCLUDED.msg_seq AND partition_snapshot.feedback_id <= EXCLUDED.feedback_id)
          OR partition_snapshot.rollback_id < EXCLUDED.rollback_id)
       RETURNING 1`,
      [log, partition, msgSeq, n === 0 ? state : Buffer.alloc(0), state.length, feedbackId, rollbackId, n],
    );
    // the previous state's chunks go; a large state's own are written (in this transaction)
    if (saved.rowCount) await writeChunks(client, PARTITION_SNAPSHOT_CHUNKS, [log, partition], state, opts);
  });
}

export interface StoredPartitionSnapshot {
  partition: number;
  msgSeq: number;
  feedbackId: number;
  rollbackId: number;
  takenAtMs: number;
  state: Buffer;
}

/** Every partition's newest snapshot of `log` (a scale-out detector snapshot is made of them). */
export async function readPartitionSnapshots(log: string): Promise<StoredPartitionSnapshot[]> {
  return inReadSnapshot(async (client) => {
    const res = await client.query<SnapshotRow & { taken: number }>(
      `SELECT ${SNAPSHOT_COLUMNS}, (extract(epoch FROM taken_at) * 1000)::float8 AS taken
       FROM partition_snapshot ${STATE.join} WHERE log = $1 ORDER BY partition, g.slice_no`,
      [log],
    );
    const out: StoredPartitionSnapshot[] = [];
    for (let i = 0; i < res.rows.length; ) {
      const r = res.rows[i]!;
      let j = i + 1;
      while (j < res.rows.length && res.rows[j]!.partition === r.partition) j++;
      const state = await stateOf(client, log, res.rows.slice(i, j));
      out.push({ partition: r.partition, msgSeq: Number(r.msg_seq), feedbackId: Number(r.feedback_id), rollbackId: Number(r.rollback_id), takenAtMs: r.taken, state });
      i = j;
    }
    return out;
  });
}

/** When each partition of `log` was last snapshotted (by the database's clock). */
export async function partitionSnapshotTimes(log: string): Promise<Map<number, number>> {
  const res = await pool().query<{ partition: number; taken: number }>(
    "SELECT partition, (extract(epoch FROM taken_at) * 1000)::float8 AS taken FROM partition_snapshot WHERE log = $1",
    [log],
  );
  return new Map(res.rows.map((r) => [r.partition, r.taken]));
}

/** The rollback every partition snapshot of `log` holds (0: none, or no snapshot yet). */
export async function rollbackInAllPartitions(log: string): Promise<number> {
  const res = await pool().query<{ r: string | null }>("SELECT min(rollback_id) AS r FROM partition_snapshot WHERE log = $1", [log]);
  return Number(res.rows[0]?.r ?? 0);
}

/** The feedback label every partition snapshot of `log` holds (0: none yet). */
export async function feedbackInAllPartitions(log: string): Promise<number> {
  const res = await pool().query<{ f: string | null }>("SELECT min(feedback_id) AS f FROM partition_snapshot WHERE log = $1", [log]);
  return Number(res.rows[0]?.f ?? 0);
}

export interface PartitionProgress {
  partition: number;
  msgSeq: number;
  scored: number;
  owner: string;
}

export async function readPartitionProgress(log: string): Promise<PartitionProgress[]> {
  const res = await pool().query<{ partition: number; msg_seq: string; scored: string; owner: string }>(
    "SELECT partition, msg_seq, scored, owner FROM partition_cursor WHERE log = $1 ORDER BY partition",
    [log],
  );
  return res.rows.map((r) => ({ partition: r.partition, msgSeq: Number(r.msg_seq), scored: Number(r.scored), owner: r.owner }));
}
