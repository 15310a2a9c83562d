/**
 * Deleting, archiving and re-kinding single streams (sources: source-service.ts).
 *
 * Delete removes everything stored for the stream (samples, scores, rollups, anomalies with their
 * labels and alert history, settings); samples that arrive later under the same name start a new
 * stream. Archive keeps it all but takes the stream off the overview and stops it raising
 * anomalies (so nothing alerts); samples that still arrive are stored and scored; restoring
 * brings it back as it was. Changing a stream's kind (a gauge that is really a counter, or the
 * other way) restarts its models at the worker's next config reload: a counter is scored by its
 * rate, so what they learnt of the other kind's values does not carry over.
 */
import { AppError } from "@/lib/errors/app-error";
import { purgeStreams, setStreamArchived, type PurgeCounts } from "../../repos/stream-lifecycle-repo";
import { getStream, setStreamKind } from "../../repos/streams-repo";
import type { TStreamKind } from "@/lib/schemas/stream";
import { invalidateSourceCache } from "../ingest/ingest-service";
import { notifyWorkers } from "../commands/worker-commands";

export async function deleteStream(id: number): Promise<PurgeCounts & { key: string }> {
  const s = await getStream(id);
  if (!s) throw new AppError("NOT_FOUND", `Stream ${id} does not exist.`);
  const res = await purgeStreams([id]);
  // this process's ingest forgets the stream's id; the worker's does at its config reload, run now
  invalidateSourceCache(s.sourceName);
  await notifyWorkers({ kind: "config" });
  return { ...res, key: s.key };
}

export async function archiveStream(id: number, archived: boolean): Promise<{ key: string; archived: boolean }> {
  const s = await getStream(id);
  if (!s) throw new AppError("NOT_FOUND", `Stream ${id} does not exist.`);
  await setStreamArchived(id, archived);
  await notifyWorkers({ kind: "config" });
  return { key: s.key, archived };
}

export async function changeStreamKind(id: number, kind: TStreamKind): Promise<{ key: string; kind: TStreamKind; previous: TStreamKind }> {
  const s = await getStream(id);
  if (!s || !(await setStreamKind(id, kind))) throw new AppError("NOT_FOUND", `Stream ${id} does not exist.`);
  if (s.kind !== kind) await notifyWorkers({ kind: "config" });
  return { key: s.key, kind, previous: s.kind };
}
