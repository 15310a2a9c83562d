import { pool } from "../db";
import { writeLargeBytea, type ByteaWriteOptions } from "./bytea-chunks";
import { byteaSlices, joinSlices } from "./bytea-slices";

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

// a partition's snapshot passes node-pg's limit on one field from ~50,000 series (bytea-slices.ts)
const STATE = byteaSlices("state");

export async function readPartitionStart(log: string, partition: number): Promise<PartitionStart> {
  const [snap, cur] = await Promise.all([
    pool().query<{ msg_seq: string; slice: Buffer; feedback_id: string; rollback_id: string }>(
      `SELECT msg_seq, feedback_id, rollback_id, ${STATE.select} FROM partition_snapshot ${STATE.join}
       WHERE log = $1 AND partition = $2 ORDER BY g.slice_no`,
      [log, partition],
    ),
    pool().query<{ msg_seq: string; late_samples: string; late_scored: string }>(
      "SELECT msg_seq, late_samples, late_scored FROM partition_cursor WHERE log = $1 AND partition = $2",
      [log, partition],
    ),
  ]);
  const s = snap.rows[0];
  const c = cur.rows[0];
  return {
    snapshot: s ? { msgSeq: Number(s.msg_seq), state: joinSlices(snap.rows), feedbackId: Number(s.feedback_id), rollbackId: Number(s.rollback_id) } : null,
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
  // large states go in chunks, in one transaction (bytea-chunks.ts)
  await writeLargeBytea(
    state,
    [log, partition, msgSeq, state.length, feedbackId, rollbackId],
    (value) => `INSERT INTO partition_snapshot (log, partition, msg_seq, state, size_bytes, taken_at, feedback_id, rollback_id) VALUES ($1, $2, $3, ${value}, $4, now(), $5, $6)
     ON CONFLICT (log, partition) DO UPDATE SET msg_seq = EXCLUDED.msg_seq, state = EXCLUDED.state, size_bytes = EXCLUDED.size_bytes, taken_at = now(),
       feedback_id = EXCLUDED.feedback_id, rollback_id = EXCLUDED.rollback_id
     WHERE partition_snapshot.rollback_id <= EXCLUDED.rollback_id AND (
           partition_snapshot.msg_seq < EXCLUDED.msg_seq
        OR (partition_snapshot.msg_seq = EXCLUDED.msg_seq AND partition_snapshot.feedback_id <= EXCLUDED.feedback_id)
        OR partition_snapshot.rollback_id < EXCLUDED.rollback_id)`,
    opts,
  );
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
  const res = await pool().query<{ partition: number; msg_seq: string; feedback_id: string; rollback_id: string; taken: number; slice: Buffer }>(
    `SELECT partition, msg_seq, feedback_id, rollback_id, (extract(epoch FROM taken_at) * 1000)::float8 AS taken, ${STATE.select}
     FROM partition_snapshot ${STATE.join} WHERE log = $1 ORDER BY partition, g.slice_no`,
    [log],
  );
  const out: StoredPartitionSnapshot[] = [];
  for (let i = 0; i < res.rows.length; ) {
    const r = res.rows[i]!;
    let j = i + 1;
    while (j < res.rows.length && res.rows[j]!.partition === r.partition) j++;
    out.push({ partition: r.partition, msgSeq: Number(r.msg_seq), feedbackId: Number(r.feedback_id), rollbackId: Number(r.rollback_id), takenAtMs: r.taken, state: joinSlices(res.rows.slice(i, j)) });
    i = j;
  }
  return out;
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
