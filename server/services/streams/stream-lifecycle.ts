/**
 * Deleting and archiving single streams (sources: source-service.ts).
 *
 * Delete removes everything stored for the stream (samples, scores, rollups, anomalies with their
 * labels and alert history, settings); samples that arrive later under the same name start a new
 * stream. Archive keeps it all but takes the stream off the overview and stops it raising
 * anomalies (so nothing alerts); samples that still arrive are stored and scored; restoring
 * brings it back as it was.
 */
import { AppError } from "@/lib/errors/app-error";
import { purgeStreams, setStreamArchived, type PurgeCounts } from "../../repos/stream-lifecycle-repo";
import { getStream } from "../../repos/streams-repo";
import { invalidateSourceCache } from "../ingest/ingest-service";

export async function deleteStream(id: number): Promise<PurgeCounts & { key: string }> {
  const s = await getStream(id);
  if (!s) throw new AppError("NOT_FOUND", `Stream ${id} does not exist.`);
  const res = await purgeStreams([id]);
  // this process's ingest forgets the stream's id (the worker's does at its next config reload)
  invalidateSourceCache(s.sourceName);
  return { ...res, key: s.key };
}

export async function archiveStream(id: number, archived: boolean): Promise<{ key: string; archived: boolean }> {
  const s = await getStream(id);
  if (!s) throw new AppError("NOT_FOUND", `Stream ${id} does not exist.`);
  await setStreamArchived(id, archived);
  return { key: s.key, archived };
}
