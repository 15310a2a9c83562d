import type { TIncidentLink } from "@/lib/schemas/incident-link";

/** Anomalies closer than this on one source/group are one event (detectors fire a little apart). */
export const INCIDENT_SLACK_MS = 5 * 60_000;

/** A newly written anomaly that has no incident yet. */
export interface UnassignedAnomaly {
  id: string;
  streamId: number;
  streamIds: number[];
  sourceId: number;
  group: string | null;
  startMs: number;
  endMs: number | null;
}

/** An incident that may still take members (not closed for good). */
export interface OpenIncident {
  id: number;
  sourceId: number;
  group: string | null;
  streamIds: number[];
  startMs: number;
  /** null while any member is still going on. */
  endMs: number | null;
  /**
   * `groupKey`s of the groups it took through the dependency graph: it takes their later
   * anomalies too, as its own group's.
   */
  groups?: string[];
}

/** An edge of the dependency graph between two streams (lib/explain/dependency.ts). */
export interface StreamLink {
  streamIds: [number, number];
  /** the one that moved first */
  leaderId: number;
  lagSec: number;
  correlation: number;
}

export interface Assignment {
  /** Incident per anomaly id: an existing incident's id, or a key of `created`. */
  incidentOf: Map<string, number>;
  /** Incidents to create, keyed by the (negative) placeholder id used in `incidentOf`. */
  created: Map<number, OpenIncident>;
  /** The anomalies that joined through the dependency graph, and the edge that linked them. */
  linkOf: Map<string, TIncidentLink>;
}

/** One key per source and group (null group apart from every named one). */
export function groupKey(sourceId: number, group: string | null): string {
  return group === null ? `${sourceId}` : `${sourceId}/${group}`;
}

/** Whether the anomaly overlaps the incident in time, within `slack` ms. */
export function overlaps(a: UnassignedAnomaly, i: Pick<OpenIncident, "startMs" | "endMs">, slack: number): boolean {
  return a.startMs <= (i.endMs ?? Infinity) + slack && i.startMs - slack <= (a.endMs ?? Infinity);
}

/** Same source and group as the incident or one of its members, or a stream in common. */
export function related(a: UnassignedAnomaly, i: OpenIncident): boolean {
  if (a.sourceId === i.sourceId && a.group === i.group) return true;
  if (i.groups?.includes(groupKey(a.sourceId, a.group))) return true;
  const ids = new Set(i.streamIds);
  return ids.has(a.streamId) || a.streamIds.some((s) => ids.has(s));
}

/** The strongest dependency edge from the anomaly's streams to the incident's, if any. */
function linkTo(a: UnassignedAnomaly, i: OpenIncident, links: readonly StreamLink[]): TIncidentLink | null {
  const own = new Set([a.streamId, ...a.streamIds]);
  const theirs = new Set(i.streamIds);
  let best: TIncidentLink | null = null;
  for (const l of links) {
    const [x, y] = l.streamIds;
    const pair = own.has(x) && theirs.has(y) ? [x, y] : own.has(y) && theirs.has(x) ? [y, x] : null;
    if (!pair || (best && Math.abs(l.correlation) <= Math.abs(best.correlation))) continue;
    best = { kind: "dependency", streamId: pair[0]!, linkedStreamId: pair[1]!, leaderId: l.leaderId, lagSec: l.lagSec, correlation: l.correlation };
  }
  return best;
}

/**
 * Puts each new anomaly into an incident: the earliest-starting candidate it overlaps in time
 * (within `slackMs`) on the same source and group, or one that already spans one of its streams;
 * failing that, the earliest overlapping one with a member stream linked to one of its streams
 * in the dependency graph (`links`); otherwise a new incident, which later anomalies of the same
 * batch can join. Incidents never merge: an anomaly bridging two incidents joins the earlier
 * one. O(n·k·l) for n anomalies, k candidates and l links, all small per write.
 */
export function assignIncidents(
  pending: readonly UnassignedAnomaly[],
  candidates: readonly OpenIncident[],
  slackMs = INCIDENT_SLACK_MS,
  links: readonly StreamLink[] = [],
): Assignment {
  const pool = candidates
    .map((c) => ({ ...c, streamIds: [...c.streamIds], groups: [...(c.groups ?? [])] }))
    .sort((a, b) => a.startMs - b.startMs || a.id - b.id);
  const created = new Map<number, OpenIncident>();
  const incidentOf = new Map<string, number>();
  const linkOf = new Map<string, TIncidentLink>();
  let nextTemp = -1;
  const sorted = [...pending].sort((a, b) => a.startMs - b.startMs || a.id.localeCompare(b.id));
  for (const a of sorted) {
    let target = pool.find((i) => related(a, i) && overlaps(a, i, slackMs));
    if (!target && links.length) {
      for (const i of pool) {
        const link = overlaps(a, i, slackMs) ? linkTo(a, i, links) : null;
        if (!link) continue;
        target = i;
        linkOf.set(a.id, link);
        break;
      }
    }
    if (!target) {
      target = { id: nextTemp--, sourceId: a.sourceId, group: a.group, streamIds: [], startMs: a.startMs, endMs: a.endMs, groups: [] };
      created.set(target.id, target);
      // keep the pool ordered by start: new ones start at or after everything seen so far in this sweep
      pool.push(target);
    }
    incidentOf.set(a.id, target.id);
    for (const s of [a.streamId, ...a.streamIds]) if (!target.streamIds.includes(s)) target.streamIds.push(s);
    const key = groupKey(a.sourceId, a.group);
    if (linkOf.has(a.id) && !target.groups.includes(key)) target.groups.push(key);
    target.startMs = Math.min(target.startMs, a.startMs);
    target.endMs = target.endMs === null || a.endMs === null ? null : Math.max(target.endMs, a.endMs);
  }
  return { incidentOf, created, linkOf };
}
