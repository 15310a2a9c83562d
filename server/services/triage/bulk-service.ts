import { AppError } from "@/lib/errors/app-error";
import type { TAnomalyLabel, TAnomalyStatus } from "@/lib/schemas/stream";
import { anomalyIdsMatching, getAnomaly, type AnomalyFilter } from "../../repos/anomalies-repo";
import { getIncident } from "../../repos/incidents-repo";
import { changeStatus, labelAnomalies } from "../anomalies/anomaly-service";

/** A bulk action reaches at most this many anomalies; past it the filter must be narrowed. */
export const MAX_BULK = 20_000;
const CHUNK = 500;

async function inChunks(ids: string[], fn: (chunk: string[]) => Promise<{ updated: number }>): Promise<number> {
  let n = 0;
  for (let i = 0; i < ids.length; i += CHUNK) n += (await fn(ids.slice(i, i + CHUNK))).updated;
  return n;
}

async function matching(filter: AnomalyFilter) {
  const m = await anomalyIdsMatching(filter, MAX_BULK + 1);
  if (m.total > MAX_BULK) {
    throw new AppError("BAD_REQUEST", `The filter matches ${m.total.toLocaleString("en")} anomalies; narrow it to at most ${MAX_BULK.toLocaleString("en")} for one bulk action.`);
  }
  return m;
}

/** Sets the status of every anomaly the filter matches (not only the page shown). */
export async function setStatusMatching(filter: AnomalyFilter, status: TAnomalyStatus, actor: string) {
  const m = await matching(filter);
  if (m.ids.length === 0) return { updated: 0 };
  return { updated: await inChunks(m.ids, (ids) => changeStatus(ids, status, actor)) };
}

/** Labels every anomaly the filter matches; each label teaches the detectors as a single one does. */
export async function labelMatching(filter: AnomalyFilter, label: TAnomalyLabel | null, actor: string) {
  const m = await matching(filter);
  if (m.ids.length === 0) return { updated: 0 };
  return { updated: await inChunks(m.ids, (ids) => labelAnomalies(ids, label, null, actor)) };
}

/** "Similar" to an anomaly: the same stream and type, not labelled by anyone yet. */
async function similarFilter(id: string): Promise<{ filter: AnomalyFilter; streamKey: string; type: string }> {
  const a = await getAnomaly(id);
  if (!a) throw new AppError("NOT_FOUND", `Anomaly ${id} does not exist.`);
  return { filter: { streamId: a.streamId, type: [a.type], unlabelled: true, excludeId: a.id }, streamKey: a.streamKey, type: a.type };
}

/** How many anomalies "label all similar" would touch, and when they were, before anything changes. */
export async function previewSimilar(id: string) {
  const { filter, streamKey, type } = await similarFilter(id);
  const m = await anomalyIdsMatching(filter, 0);
  return { total: m.total, firstMs: m.firstMs, lastMs: m.lastMs, streamKey, type };
}

export async function labelSimilar(id: string, label: TAnomalyLabel, expectedTotal: number, actor: string) {
  const { filter } = await similarFilter(id);
  const m = await matching(filter);
  // The preview is what the user agreed to: refuse if it grew meanwhile (a new anomaly arrived).
  if (m.total > expectedTotal) {
    throw new AppError("CONFLICT", `${m.total} similar anomalies now, ${expectedTotal} when previewed: check the new count and confirm again.`);
  }
  if (m.ids.length === 0) return { updated: 0 };
  return {
    updated: await inChunks(m.ids, (ids) => labelAnomalies(ids, label, `labelled as similar to ${id}`, actor)),
  };
}

/**
 * "Similar" to an incident: on each of its streams, the anomalies outside it of the type it had
 * there, not labelled by anyone yet (the incident-level counterpart of `similarFilter`).
 */
async function incidentSimilarFilter(id: number): Promise<{ filter: AnomalyFilter; streams: number }> {
  const inc = await getIncident(id);
  if (!inc) throw new AppError("NOT_FOUND", `Incident ${id} does not exist.`);
  return { filter: { similarToIncident: id, unlabelled: true }, streams: inc.streamIds.length };
}

/** How many anomalies "label all similar" from an incident would touch, before anything changes. */
export async function previewSimilarToIncident(id: number) {
  const { filter, streams } = await incidentSimilarFilter(id);
  const m = await anomalyIdsMatching(filter, 0);
  return { total: m.total, firstMs: m.firstMs, lastMs: m.lastMs, streams };
}

export async function labelSimilarToIncident(id: number, label: TAnomalyLabel, expectedTotal: number, actor: string) {
  const { filter } = await incidentSimilarFilter(id);
  const m = await matching(filter);
  if (m.total > expectedTotal) {
    throw new AppError("CONFLICT", `${m.total} similar anomalies now, ${expectedTotal} when previewed: check the new count and confirm again.`);
  }
  if (m.ids.length === 0) return { updated: 0 };
  return {
    updated: await inChunks(m.ids, (ids) => labelAnomalies(ids, label, `labelled as similar to incident #${id}`, actor)),
  };
}
