import { z } from "zod";
import { decodeSnapshotSetHeader, SET_PREFIX_BYTES, snapshotSetHeaderLength } from "@/lib/scale/snapshot-set";
import { pool } from "../db";
import { copyChunks, readChunks, type ChunkTable } from "./bytea-chunks";
import { byteaSlices, joinSlices } from "./bytea-slices";
import { PARTITION_SNAPSHOT_CHUNKS } from "./partition-repo";
import { queryRow, queryRows, ZByteCount } from "./rows";
import { pruneSnapshots } from "./snapshots-repo";
import { inReadSnapshot, inTransaction } from "./transaction";

/**
 * Scale-out detector snapshots (Settings → Models with OMEN_NATS_URL) kept one row per
 * partition: the `detector_snapshot` row is the listing (reason, cursor, total size) and names
 * the sample log and partition count; each partition's state is a `detector_snapshot_part` row.
 * The copy runs inside PostgreSQL, so no state passes through the worker, and no value is
 * larger than one chunk (PostgreSQL refuses a field over 1 GB, which the whole set passed at
 * ~190,000 series). Older rows hold the whole set in `detector_snapshot.state`
 * (lib/scale/snapshot-set.ts); a partition's state is read out of them alone, too. A large
 * partition state is kept as a row per chunk (bytea-chunks.ts), copied with its part.
 */

/** A large partition state of a stored snapshot as rows; deleted with the part (and the snapshot). */
export const SNAPSHOT_PART_CHUNKS: ChunkTable = { name: "detector_snapshot_part_chunk", key: ["snapshot_id", "partition"] };

/** One partition's state in a stored snapshot (without the state). */
export interface ArchivedPart {
  partition: number;
  /** last message of the partition's log folded into the state */
  msgSeq: number;
  /** newest feedback label folded into the state */
  feedbackId: number;
  sizeBytes: number;
}

/** Where a stored snapshot's partitions are: rows of their own, or inside the old single-value set. */
export type ArchivedSetLayout = { format: "rows" } | { format: "set"; offsets: Map<number, number> };

export interface ArchivedSet {
  snapshotId: number;
  log: string;
  partitions: number;
  /** the partitions that had a saved state (one without had learned nothing) */
  parts: ArchivedPart[];
  layout: ArchivedSetLayout;
}

/**
 * What detector snapshot `id` holds: null when it does not exist; a single worker's detectors;
 * or the partitions of a scale-out installation (`set` null when an old-format set is damaged).
 */
export type SnapshotContents = null | { kind: "single" } | { kind: "partitions"; set: ArchivedSet | null };

/**
 * Copies every partition's newest state of `log` into a new scale-out snapshot, inside the
 * database, in one REPEATABLE READ transaction (one MVCC snapshot: a partition saving meanwhile
 * is copied before or after, never torn): the listing row, the parts, then the large states'
 * chunk rows a few per statement, so no statement holds the embedded database's host for the
 * whole copy. Null when no partition has a state yet, unless `evenIfEmpty`. Automatic snapshots
 * keep the newest `keep` of their reason (their parts go with them: ON DELETE CASCADE).
 */
export async function archivePartitions(log: string, partitions: number, reason: string, evenIfEmpty = false, keep = 20): Promise<number | null> {
  const id = await inTransaction(async (client) => {
    // only inserts new rows: no serialization failure to retry
    await client.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    const head = await queryRow(
      client,
      z.object({ id: z.number() }),
      `INSERT INTO detector_snapshot (reason, cursor, size_bytes, state, log, partitions, total_bytes)
       SELECT $2, coalesce(max(msg_seq), 0), 0, '\\x'::bytea, $1, $3, coalesce(sum(size_bytes), 0)
       FROM partition_snapshot WHERE log = $1 HAVING count(*) > 0 OR $4::boolean
       RETURNING id`,
      [log, reason, partitions, evenIfEmpty],
    );
    if (!head) return null;
    const parts = await queryRows(
      client,
      z.object({ partition: z.number(), chunk_count: z.number() }),
      `INSERT INTO detector_snapshot_part (snapshot_id, partition, msg_seq, feedback_id, state, size_bytes, chunk_count)
       SELECT $1, partition, msg_seq, feedback_id, state, size_bytes, chunk_count FROM partition_snapshot WHERE log = $2
       RETURNING partition, chunk_count`,
      [head.id, log],
    );
    for (const p of parts) {
      if (p.chunk_count > 0) await copyChunks(client, PARTITION_SNAPSHOT_CHUNKS, [log, p.partition], SNAPSHOT_PART_CHUNKS, [head.id, p.partition], p.chunk_count);
    }
    return head.id;
  });
  if (id === null) return null;
  await pruneSnapshots(reason, keep);
  return id;
}

const ZHead = z.object({ log: z.string().nullable(), partitions: z.number().nullable(), state_bytes: z.number(), prefix: z.instanceof(Buffer) });
const ZPart = z.object({ partition: z.number(), msg_seq: z.number(), feedback_id: z.number(), size_bytes: ZByteCount("detector_snapshot_part.size_bytes") });

/** What snapshot `id` holds, read without its states (for an old-format set, its header only). */
export async function describeSnapshot(id: number): Promise<SnapshotContents> {
  const head = await queryRow(
    pool(),
    ZHead,
    `SELECT log, partitions, octet_length(state) AS state_bytes, substring(state FROM 1 FOR ${SET_PREFIX_BYTES}) AS prefix FROM detector_snapshot WHERE id = $1`,
    [id],
  );
  if (!head) return null;
  if (head.log !== null && head.partitions !== null) {
    const parts = await queryRows(pool(), ZPart, "SELECT partition, msg_seq, feedback_id, size_bytes FROM detector_snapshot_part WHERE snapshot_id = $1 ORDER BY partition", [id]);
    return {
      kind: "partitions",
      set: { snapshotId: id, log: head.log, partitions: head.partitions, layout: { format: "rows" }, parts: parts.map((p) => ({ partition: p.partition, msgSeq: p.msg_seq, feedbackId: p.feedback_id, sizeBytes: p.size_bytes })) },
    };
  }
  const n = snapshotSetHeaderLength(head.prefix);
  if (n === null) return { kind: "single" };
  if (SET_PREFIX_BYTES + n > head.state_bytes) return { kind: "partitions", set: null };
  const header = await queryRow(pool(), z.object({ h: z.instanceof(Buffer) }), `SELECT substring(state FROM ${SET_PREFIX_BYTES + 1} FOR $2) AS h FROM detector_snapshot WHERE id = $1`, [id, n]);
  const index = header && decodeSnapshotSetHeader(header.h, head.state_bytes);
  if (!index) return { kind: "partitions", set: null };
  return {
    kind: "partitions",
    set: {
      snapshotId: id,
      log: index.log,
      partitions: index.partitions,
      layout: { format: "set", offsets: new Map(index.parts.map((p) => [p.partition, p.offset])) },
      parts: index.parts.map((p) => ({ partition: p.partition, msgSeq: p.msgSeq, feedbackId: p.feedbackId, sizeBytes: p.bytes })),
    },
  };
}

// a partition's state passes node-pg's limit on one field from ~50,000 series (bytea-slices.ts)
const ZSlice = z.object({ slice: z.instanceof(Buffer) });

/**
 * Partition `partition`'s state in stored snapshot `set`, read alone and in slices; null when
 * the set holds none for it (the partition had learned nothing). Throws when the snapshot was
 * deleted since `set` was read.
 */
export async function readArchivedState(set: ArchivedSet, partition: number, sliceBytes?: number): Promise<Buffer | null> {
  const part = set.parts.find((p) => p.partition === partition);
  if (!part) return null;
  if (set.layout.format === "rows") {
    const s = byteaSlices("state", sliceBytes);
    const state = await inReadSnapshot(async (client) => {
      const head = await queryRow(client, z.object({ chunk_count: z.number(), size_bytes: ZByteCount("detector_snapshot_part.size_bytes") }), "SELECT chunk_count, size_bytes FROM detector_snapshot_part WHERE snapshot_id = $1 AND partition = $2", [
        set.snapshotId,
        partition,
      ]);
      if (!head) return null;
      if (head.chunk_count > 0) return readChunks(client, SNAPSHOT_PART_CHUNKS, [set.snapshotId, partition], head.chunk_count, head.size_bytes);
      return joinSlices(await queryRows(client, ZSlice, `SELECT ${s.select} FROM detector_snapshot_part ${s.join} WHERE snapshot_id = $1 AND partition = $2 ORDER BY g.slice_no`, [set.snapshotId, partition]));
    });
    if (!state) throw gone(set);
    return state;
  }
  // the partition's bytes of the old single-value set, cut out once (OFFSET 0 keeps the
  // subquery from being folded into each slice's expression)
  const s = byteaSlices("v.state", sliceBytes);
  const rows = await queryRows(
    pool(),
    ZSlice,
    `SELECT ${s.select} FROM (SELECT substring(state FROM $2 FOR $3) AS state FROM detector_snapshot WHERE id = $1 OFFSET 0) v ${s.join} ORDER BY g.slice_no`,
    [set.snapshotId, set.layout.offsets.get(partition)! + 1, part.sizeBytes],
  );
  if (!rows.length) throw gone(set);
  return joinSlices(rows);
}

// listed but gone: the snapshot was deleted since (pruned); fresh detectors would be wrong
const gone = (set: ArchivedSet) => new Error(`Snapshot ${set.snapshotId} no longer exists (deleted since it was read).`);
