import "server-only";
import { AppError } from "@/lib/errors/app-error";
import type { TAnomalyLabel, TAnomalyStatus } from "@/lib/schemas/stream";
import { listAnomalies } from "../../repos/anomalies-repo";
import { listDeliveries } from "../../repos/alerts-repo";
import {
  countOpenIncidents,
  getIncident,
  incidentIdsMatching,
  listIncidents,
  memberAnomalyIds,
  setIncidentLabel,
  setIncidentStatus,
  type IncidentFilter,
} from "../../repos/incidents-repo";
import { addFeedback } from "../../repos/feedback-repo";
import { getStream } from "../../repos/streams-repo";
import { labelAnomalies } from "../anomalies/anomaly-service";

/** An incident page lists at most this many of its anomalies and streams. */
const MAX_MEMBERS = 500;
const MAX_STREAMS = 50;
/** A bulk action reaches at most this many incidents; past it the filter must be narrowed. */
export const MAX_BULK_INCIDENTS = 5_000;
const CHUNK = 200;

export function findIncidents(filter: IncidentFilter) {
  return listIncidents(filter);
}

/** The overview header's counts: open live incidents by severity (an event over 9 streams counts once). */
export function openIncidentCounts() {
  return countOpenIncidents();
}

/** Everything the incident page shows: the incident, its streams, its anomalies (the timeline) and its alert deliveries. */
export async function incidentDetail(id: number) {
  const incident = await getIncident(id);
  if (!incident) throw new AppError("NOT_FOUND", `Incident ${id} does not exist.`);
  const [members, streams, deliveries] = await Promise.all([
    listAnomalies({ incidentId: id, sort: "start", dir: "asc", limit: MAX_MEMBERS }),
    Promise.all(incident.streamIds.slice(0, MAX_STREAMS).map((sid) => getStream(sid))),
    listDeliveries({ incidentId: id, limit: 100 }),
  ]);
  return {
    incident,
    anomalies: members.rows,
    totalAnomalies: members.total,
    streams: streams.filter((s): s is NonNullable<typeof s> => s !== null),
    totalStreams: incident.streamIds.length,
    deliveries,
  };
}

async function inChunks(ids: number[], fn: (chunk: number[]) => Promise<number>): Promise<number> {
  let n = 0;
  for (let i = 0; i < ids.length; i += CHUNK) n += await fn(ids.slice(i, i + CHUNK));
  return n;
}

/** Sets the one status of incidents (their anomalies follow); each anomaly's history notes who did it. */
export async function changeIncidentStatus(ids: number[], status: TAnomalyStatus, actor: string) {
  const r = await setIncidentStatus(ids, status, actor);
  if (r.updated === 0) throw new AppError("NOT_FOUND", "No such incident.");
  await Promise.all(r.anomalyIds.map((aid) => addFeedback(aid, null, `incident status → ${status}`, actor)));
  return { updated: r.updated };
}

/**
 * Labels incidents and every anomaly in them (each anomaly label teaches the detectors, see
 * docs/feedback.md). A false positive also resolves the incident, by the person who labelled it.
 */
export async function labelIncidents(ids: number[], label: TAnomalyLabel | null, comment: string | null, actor: string) {
  const n = await setIncidentLabel(ids, label);
  if (n === 0) throw new AppError("NOT_FOUND", "No such incident.");
  const members = await memberAnomalyIds(ids);
  for (let i = 0; i < members.length; i += 500) await labelAnomalies(members.slice(i, i + 500), label, comment, actor);
  if (label === "false_positive") await setIncidentStatus(ids, "resolved", actor);
  return { updated: n, anomalies: members.length };
}

async function matching(filter: IncidentFilter) {
  const m = await incidentIdsMatching(filter, MAX_BULK_INCIDENTS + 1);
  if (m.total > MAX_BULK_INCIDENTS) {
    throw new AppError(
      "BAD_REQUEST",
      `The filter matches ${m.total.toLocaleString("en")} incidents; narrow it to at most ${MAX_BULK_INCIDENTS.toLocaleString("en")} for one bulk action.`,
    );
  }
  return m.ids;
}

/** Sets the status of every incident the filter matches (not only the page shown). */
export async function setIncidentStatusMatching(filter: IncidentFilter, status: TAnomalyStatus, actor: string) {
  const ids = await matching(filter);
  return { updated: await inChunks(ids, async (c) => (await changeIncidentStatus(c, status, actor)).updated) };
}

/** Labels every incident the filter matches, with all their anomalies. */
export async function labelIncidentsMatching(filter: IncidentFilter, label: TAnomalyLabel | null, actor: string) {
  const ids = await matching(filter);
  return { updated: await inChunks(ids, async (c) => (await labelIncidents(c, label, null, actor)).updated) };
}
