import { z } from "zod";
import { decodeSnapshotSet, encodeSnapshotSet, type SnapshotSet } from "@/lib/scale/snapshot-set";
import { readPartitionSnapshots } from "../../repos/partition-repo";
import { getSetting, setSetting } from "../../repos/settings-repo";
import { loadSnapshot, saveSnapshot } from "../../repos/snapshots-repo";

/**
 * Scale-out detector snapshots and rollback (Settings → Models with OMEN_NATS_URL). A snapshot
 * is every partition's newest saved state, copied into one `detector_snapshot` row (a snapshot
 * set, lib/scale/snapshot-set.ts), so it is listed and kept like a single worker's. A rollback
 * is a durable record under `rollbackKey(log)`: the leader writes it, and every partition's
 * owner (now, or later: a partition that moves, or had no owner then) restores that
 * partition's state from the set once, saving the rollback's id with its next snapshot.
 */
export const ZPartitionRollback = z.object({
  /** the id of the `detector_snapshot` that kept the state before the rollback: increasing, unique */
  id: z.number().int().positive(),
  snapshotId: z.number().int().positive(),
  by: z.string(),
  atMs: z.number(),
});
export type TPartitionRollback = z.infer<typeof ZPartitionRollback>;

export const rollbackKey = (log: string) => `partition.rollback:${log}`;

/** Copies every partition's newest state of `log` into one detector snapshot; null when no partition has one yet (unless `evenIfEmpty`). */
export async function archivePartitionSnapshots(log: string, partitions: number, reason: string, evenIfEmpty = false): Promise<number | null> {
  const rows = await readPartitionSnapshots(log);
  if (!rows.length && !evenIfEmpty) return null;
  const blob = encodeSnapshotSet({ log, partitions, states: rows.map((r) => ({ partition: r.partition, msgSeq: r.msgSeq, feedbackId: r.feedbackId, state: r.state })) });
  // the cursor column of a single worker's snapshot; here the newest log message the set covers
  return saveSnapshot(reason, Math.max(0, ...rows.map((r) => r.msgSeq)), Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength));
}

/** The snapshot set stored as detector snapshot `id`, or why it cannot be restored on `log`. */
export async function loadSnapshotSet(id: number, log: string, partitions: number): Promise<{ set: SnapshotSet } | { error: string }> {
  const snap = await loadSnapshot(id);
  if (!snap) return { error: `Snapshot ${id} does not exist.` };
  const set = decodeSnapshotSet(snap.state);
  if (!set) return { error: `Snapshot ${id} holds a single worker's detectors (taken without OMEN_NATS_URL); in scale-out mode only snapshots of the partitions can be restored.` };
  if (set.log !== log || set.partitions !== partitions) {
    return { error: `Snapshot ${id} was taken on sample log ${set.log} with ${set.partitions} partitions; this installation runs ${log} with ${partitions}.` };
  }
  return { set };
}

export async function readPendingRollback(log: string): Promise<TPartitionRollback | null> {
  const raw = await getSetting(rollbackKey(log));
  if (!raw) return null;
  const parsed = ZPartitionRollback.safeParse(JSON.parse(raw));
  return parsed.success ? parsed.data : null;
}

export function recordRollback(log: string, r: TPartitionRollback): Promise<void> {
  return setSetting(rollbackKey(log), JSON.stringify(r));
}
