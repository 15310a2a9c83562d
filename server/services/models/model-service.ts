import { z } from "zod";
import { AppError } from "@/lib/errors/app-error";
import { getSetting, setSetting } from "../../repos/settings-repo";
import { listSnapshots, loadSnapshot } from "../../repos/snapshots-repo";
import { env } from "../../env";
import { decodeSnapshotSet, isSnapshotSet } from "@/lib/scale/snapshot-set";
import { logNames } from "@/lib/scale/log-names";
import { notifyWorkers } from "../commands/worker-commands";

/**
 * The web app asks, the worker acts: one pending request at a time under this key (the durable
 * record), and a command on the worker channel so that the worker acts at once.
 */
export const WORKER_REQUEST_KEY = "worker.request";

export const ZWorkerRequest = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("snapshot"), by: z.string(), atMs: z.number() }),
  z.object({ kind: z.literal("rollback"), snapshotId: z.number().int().positive(), by: z.string(), atMs: z.number() }),
]);
export type TWorkerRequest = z.infer<typeof ZWorkerRequest>;

export async function snapshotOverview() {
  const [snapshots, pending] = await Promise.all([listSnapshots(), getSetting(WORKER_REQUEST_KEY)]);
  const parsed = pending ? ZWorkerRequest.safeParse(JSON.parse(pending)) : null;
  return { snapshots, pending: parsed?.success ? parsed.data : null };
}

export async function requestSnapshot(by: string, nowMs = Date.now()): Promise<void> {
  await setSetting(WORKER_REQUEST_KEY, JSON.stringify({ kind: "snapshot", by, atMs: nowMs } satisfies TWorkerRequest));
  await notifyWorkers({ kind: "request" });
}

/**
 * Asks the worker to restore the detectors from snapshot `id` (it saves the current state
 * first). In scale-out mode (OMEN_NATS_URL) only a snapshot of the partitions taken on the same
 * sample log can be restored, and the other way round.
 */
export async function requestRollback(snapshotId: number, by: string, nowMs = Date.now()): Promise<void> {
  const snap = await loadSnapshot(snapshotId);
  if (!snap) throw new AppError("NOT_FOUND", `Snapshot ${snapshotId} does not exist.`);
  const e = env();
  if (e.OMEN_NATS_URL) {
    const set = decodeSnapshotSet(snap.state);
    const log = logNames(e.OMEN_NATS_PREFIX).stream;
    if (!set) {
      throw new AppError("BAD_REQUEST", `Snapshot ${snapshotId} holds a single worker's detectors (taken without OMEN_NATS_URL); in scale-out mode only snapshots of the partitions can be restored. Nothing was changed.`);
    }
    if (set.log !== log || set.partitions !== e.OMEN_PARTITIONS) {
      throw new AppError("BAD_REQUEST", `Snapshot ${snapshotId} was taken on sample log ${set.log} with ${set.partitions} partitions; this installation runs ${log} with ${e.OMEN_PARTITIONS}. Nothing was changed.`);
    }
  } else if (isSnapshotSet(snap.state)) {
    throw new AppError("BAD_REQUEST", `Snapshot ${snapshotId} holds the partitions of a scale-out installation (OMEN_NATS_URL); a single worker cannot restore it. Nothing was changed.`);
  }
  await setSetting(WORKER_REQUEST_KEY, JSON.stringify({ kind: "rollback", snapshotId, by, atMs: nowMs } satisfies TWorkerRequest));
  await notifyWorkers({ kind: "request" });
}
