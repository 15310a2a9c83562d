import { z } from "zod";
import { AppError } from "@/lib/errors/app-error";
import { getSetting, setSetting } from "../../repos/settings-repo";
import { describeSnapshot } from "../../repos/snapshot-archive-repo";
import { listSnapshots } from "../../repos/snapshots-repo";
import { env } from "../../env";
import { scaleOutRestoreError, singleWorkerRestoreError } from "@/lib/scale/snapshot-fit";
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
  // what the snapshot holds, read without its states (megabytes to gigabytes)
  const holds = await describeSnapshot(snapshotId);
  if (!holds) throw new AppError("NOT_FOUND", `Snapshot ${snapshotId} does not exist.`);
  const e = env();
  const refused = e.OMEN_NATS_URL ? scaleOutRestoreError(snapshotId, holds, logNames(e.OMEN_NATS_PREFIX).stream, e.OMEN_PARTITIONS) : singleWorkerRestoreError(snapshotId, holds);
  if (refused) throw new AppError("BAD_REQUEST", `${refused} Nothing was changed.`);
  await setSetting(WORKER_REQUEST_KEY, JSON.stringify({ kind: "rollback", snapshotId, by, atMs: nowMs } satisfies TWorkerRequest));
  await notifyWorkers({ kind: "request" });
}
