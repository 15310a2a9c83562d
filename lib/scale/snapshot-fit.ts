/**
 * Which stored detector snapshots an installation can restore, and why not: a scale-out one
 * (OMEN_NATS_URL) only a snapshot of its own sample log's partitions, a single worker only its
 * own kind. The web app refuses a rollback with these reasons, the scale-out leader logs them.
 */
export type SnapshotKind = { kind: "single" } | { kind: "partitions"; set: { log: string; partitions: number } | null };

/** Why snapshot `id` cannot be restored on sample log `log` with `partitions` partitions; null when it can. */
export function scaleOutRestoreError(id: number, holds: SnapshotKind | null, log: string, partitions: number): string | null {
  if (!holds) return `Snapshot ${id} does not exist.`;
  // a damaged set (old single-value format) cannot be told from anything restorable either
  if (holds.kind === "single" || !holds.set) {
    return `Snapshot ${id} holds a single worker's detectors (taken without OMEN_NATS_URL); in scale-out mode only snapshots of the partitions can be restored.`;
  }
  if (holds.set.log !== log || holds.set.partitions !== partitions) {
    return `Snapshot ${id} was taken on sample log ${holds.set.log} with ${holds.set.partitions} partitions; this installation runs ${log} with ${partitions}.`;
  }
  return null;
}

/** Why a single worker (no OMEN_NATS_URL) cannot restore snapshot `id`; null when it can. */
export function singleWorkerRestoreError(id: number, holds: SnapshotKind | null): string | null {
  if (!holds) return `Snapshot ${id} does not exist.`;
  if (holds.kind === "partitions") return `Snapshot ${id} holds the partitions of a scale-out installation (OMEN_NATS_URL); a single worker cannot restore it.`;
  return null;
}
