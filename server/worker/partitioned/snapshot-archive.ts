import { z } from "zod";
import { scaleOutRestoreError } from "@/lib/scale/snapshot-fit";
import { getSetting, setSetting } from "../../repos/settings-repo";
import { describeSnapshot, readArchivedState } from "../../repos/snapshot-archive-repo";

/**
 * Scale-out detector snapshots and rollback (Settings → Models with OMEN_NATS_URL). A snapshot
 * is every partition's newest saved state, copied inside PostgreSQL into one row per partition
 * under one listed `detector_snapshot` row (server/repos/snapshot-archive-repo.ts), so it is
 * listed and kept like a single worker's. A rollback is a durable record under
 * `rollbackKey(log)`: the leader writes it, and every partition's owner (now, or later: a
 * partition that moves, or had no owner then) restores that partition's state, read alone, once,
 * saving the rollback's id with its next snapshot.
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

/** A stored snapshot of the partitions, each partition's state read on demand. */
export interface PartitionArchive {
  snapshotId: number;
  /** partition `p`'s state (null: the partition had learned nothing then); throws when the snapshot was deleted meanwhile */
  stateOf(partition: number): Promise<Buffer | null>;
}

/** The snapshot of the partitions stored as detector snapshot `id`, or why it cannot be restored on `log`. */
export async function loadSnapshotSet(id: number, log: string, partitions: number): Promise<{ archive: PartitionArchive } | { error: string }> {
  const holds = await describeSnapshot(id);
  const error = scaleOutRestoreError(id, holds, log, partitions);
  if (error || holds?.kind !== "partitions" || !holds.set) return { error: error ?? `Snapshot ${id} cannot be restored.` };
  const set = holds.set;
  return { archive: { snapshotId: id, stateOf: (p) => readArchivedState(set, p) } };
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
