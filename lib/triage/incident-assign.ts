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
}

export interface Assignment {
  /** Incident per anomaly id: an existing incident's id, or a key of `created`. */
  incidentOf: Map<string, number>;
  /** Incidents to create, keyed by the (negative) placeholder id used in `incidentOf`. */
  created: Map<number, OpenIncident>;
}

function overlaps(a: UnassignedAnomaly, i: OpenIncident, slack: number): boolean {
  return a.startMs <= (i.endMs ?? Infinity) + slack && i.startMs - slack <= (a.endMs ?? Infinity);
}

function related(a: UnassignedAnomaly, i: OpenIncident): boolean {
  if (a.sourceId === i.sourceId && a.group === i.group) return true;
  const ids = new Set(i.streamIds);
  return ids.has(a.streamId) || a.streamIds.some((s) => ids.has(s));
}

/**
 * Puts each new anomaly into an incident: the earliest-starting candidate it overlaps in time
 * (within `slackMs`) on the same source and group, or one that already spans one of its streams;
 * otherwise a new incident, which later anomalies of the same batch can join. Incidents never
 * merge: an anomaly bridging two incidents joins the earlier one. O(n·k) for n anomalies and k
 * candidates, both small per write.
 */
export function assignIncidents(
  pending: readonly UnassignedAnomaly[],
  candidates: readonly OpenIncident[],
  slackMs = INCIDENT_SLACK_MS,
): Assignment {
  const pool = candidates.map((c) => ({ ...c, streamIds: [...c.streamIds] })).sort((a, b) => a.startMs - b.startMs || a.id - b.id);
  const created = new Map<number, OpenIncident>();
  const incidentOf = new Map<string, number>();
  let nextTemp = -1;
  const sorted = [...pending].sort((a, b) => a.startMs - b.startMs || a.id.localeCompare(b.id));
  for (const a of sorted) {
    let target = pool.find((i) => related(a, i) && overlaps(a, i, slackMs));
    if (!target) {
      target = { id: nextTemp--, sourceId: a.sourceId, group: a.group, streamIds: [], startMs: a.startMs, endMs: a.endMs };
      created.set(target.id, target);
      // keep the pool ordered by start: new ones start at or after everything seen so far in this sweep
      pool.push(target);
    }
    incidentOf.set(a.id, target.id);
    for (const s of [a.streamId, ...a.streamIds]) if (!target.streamIds.includes(s)) target.streamIds.push(s);
    target.startMs = Math.min(target.startMs, a.startMs);
    target.endMs = target.endMs === null || a.endMs === null ? null : Math.max(target.endMs, a.endMs);
  }
  return { incidentOf, created };
}
