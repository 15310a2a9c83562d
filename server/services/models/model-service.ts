import { z } from "zod";
import { AppError } from "@/lib/errors/app-error";
import { getSetting, setSetting } from "../../repos/settings-repo";
import { listSnapshots, loadSnapshot } from "../../repos/snapshots-repo";
import { env } from "../../env";
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

/** Asks the worker to restore the detectors from snapshot `id` (it saves the current state first). */
export async function requestRollback(snapshotId: number, by: string, nowMs = Date.now()): Promise<void> {
  if (env().OMEN_NATS_URL) {
    // the listed snapshots hold one engine's whole state; scale-out workers keep one per partition
    throw new AppError("BAD_REQUEST", "Rollback restores a single worker's snapshot; with OMEN_NATS_URL (scale-out) each partition keeps its own, and rollback is not available. Nothing was changed.");
  }
  if (!(await loadSnapshot(snapshotId))) throw new AppError("NOT_FOUND", `Snapshot ${snapshotId} does not exist.`);
  await setSetting(WORKER_REQUEST_KEY, JSON.stringify({ kind: "rollback", snapshotId, by, atMs: nowMs } satisfies TWorkerRequest));
  await notifyWorkers({ kind: "request" });
}
