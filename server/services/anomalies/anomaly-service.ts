import "server-only";
import { AppError } from "@/lib/errors/app-error";
import type { TAnomalyLabel, TAnomalyStatus } from "@/lib/schemas/stream";
import {
  countOpenBySeverity,
  getAnomaly,
  listAnomalies,
  setAnomalyLabel,
  setAnomalyStatus,
  type AnomalyFilter,
  type AnomalyRow,
} from "../../repos/anomalies-repo";
import { addFeedback, listFeedback } from "../../repos/feedback-repo";
import { readSeries } from "../../repos/storage/samples";
import { readScores } from "../../repos/storage/scores";
import { getStream } from "../../repos/streams-repo";
import { notifyWorkers } from "../commands/worker-commands";

export async function findAnomalies(filter: AnomalyFilter) {
  return listAnomalies(filter);
}

export async function openAnomalyCounts() {
  return countOpenBySeverity();
}

const MAX_STREAMS_SHOWN = 12;

/** Past anomalies like this one: same stream first, then same type elsewhere; with their labels. */
async function similarAnomalies(a: AnomalyRow, limit = 10) {
  const [sameStream, sameType] = await Promise.all([
    listAnomalies({ streamId: a.streamId, limit: 30, toMs: a.startMs }),
    listAnomalies({ type: [a.type], limit: 30, toMs: a.startMs }),
  ]);
  const seen = new Set<string>([a.id]);
  const out: (AnomalyRow & { reason: string })[] = [];
  for (const [list, reason] of [
    [sameStream.rows, "same stream"],
    [sameType.rows, "same type"],
  ] as const) {
    const ranked = [...list].sort((x, y) => Math.abs(x.peakScore - a.peakScore) - Math.abs(y.peakScore - a.peakScore));
    for (const r of ranked) {
      if (seen.has(r.id) || out.length >= limit) continue;
      seen.add(r.id);
      out.push({ ...r, reason });
    }
  }
  return out;
}

/** Everything the anomaly page shows: the anomaly, its streams, timeline, feedback, similar ones. */
export async function anomalyDetail(id: string, nowMs = Date.now()) {
  const a = await getAnomaly(id);
  if (!a) throw new AppError("NOT_FOUND", `Anomaly ${id} does not exist.`);
  const endMs = a.endMs ?? nowMs;
  const pad = Math.max(30 * 60_000, 2 * (endMs - a.startMs));
  const fromMs = a.startMs - pad;
  const toMs = Math.min(nowMs, endMs + pad);
  const ids = (a.streamIds.length ? a.streamIds : [a.streamId]).slice(0, MAX_STREAMS_SHOWN);
  const [streams, series, scores, feedback, similar] = await Promise.all([
    Promise.all(ids.map((sid) => getStream(sid))),
    readSeries(a.streamId, fromMs, toMs, 1000),
    readScores(a.streamId, fromMs, toMs, 1000),
    listFeedback(a.id),
    similarAnomalies(a),
  ]);
  // The engine names streams by internal id ("… on 12: …"); show the stream's key instead.
  const summary = a.explanation.summary;
  if (typeof summary === "string") {
    a.explanation = { ...a.explanation, summary: summary.replace(new RegExp(`\\bon ${a.streamId}:`), `on ${a.streamKey}:`) };
  }
  return {
    anomaly: a,
    streams: streams.filter((s): s is NonNullable<typeof s> => s !== null),
    totalStreams: a.streamIds.length || 1,
    fromMs,
    toMs,
    series,
    scores,
    feedback,
    similar,
  };
}

export async function changeStatus(ids: string[], status: TAnomalyStatus, actor: string) {
  const n = await setAnomalyStatus(ids, status);
  if (n === 0) throw new AppError("NOT_FOUND", "No such anomaly.");
  await Promise.all(ids.map((id) => addFeedback(id, null, `status → ${status}`, actor)));
  return { updated: n };
}

/**
 * Labels anomalies. Each label is also a feedback row that the worker applies to the detectors
 * (a false positive raises that stream's calibration threshold; see docs/feedback.md).
 */
export async function labelAnomalies(ids: string[], label: TAnomalyLabel | null, comment: string | null, actor: string) {
  const n = await setAnomalyLabel(ids, label);
  if (n === 0) throw new AppError("NOT_FOUND", "No such anomaly.");
  // A false positive needs no more work: it is closed with its label (alerts then say resolved too).
  if (label === "false_positive") await setAnomalyStatus(ids, "resolved");
  await Promise.all(ids.map((id) => addFeedback(id, label, comment?.trim() || null, actor)));
  if (label) await notifyWorkers({ kind: "feedback" });
  return { updated: n };
}

export async function commentOnAnomaly(id: string, comment: string, actor: string) {
  const a = await getAnomaly(id);
  if (!a) throw new AppError("NOT_FOUND", `Anomaly ${id} does not exist.`);
  const text = comment.trim();
  if (!text) throw new AppError("BAD_REQUEST", "A comment cannot be empty.");
  return { id: await addFeedback(id, null, text, actor) };
}
