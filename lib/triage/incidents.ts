import type { TAnomalyStatus, TSeverity } from "../schemas/stream";

/** What grouping needs from an anomaly and its stream. */
export interface IncidentMember {
  id: string;
  streamId: number;
  /** Other streams the anomaly already spans (cross-stream detectors). */
  streamIds: number[];
  sourceId: number;
  group: string | null;
  startMs: number;
  endMs: number | null;
  severity: TSeverity;
  peakScore: number;
  status: TAnomalyStatus;
}

export interface Incident<T extends IncidentMember> {
  /** The id of its earliest anomaly: stable while the incident grows. */
  id: string;
  members: T[];
  streamIds: number[];
  startMs: number;
  /** null while any member is still going on. */
  endMs: number | null;
  severity: TSeverity;
  peakScore: number;
  /** One status for all rows: open while any is open, then acknowledged while any is, else resolved. */
  status: TAnomalyStatus;
  /** Newest moment of activity (an open member counts as `nowMs`), for recency order. */
  lastActivityMs: number;
}

const SEV_RANK: Record<TSeverity, number> = { low: 0, medium: 1, high: 2 };

/** Anomalies closer than this on one source/group are one event (detectors fire a little apart). */
export const INCIDENT_SLACK_MS = 5 * 60_000;

/**
 * Groups anomalies into incidents: anomalies that overlap in time (within `slackMs`) on streams
 * of one source and group, or on a stream that another anomaly already spans, or on streams
 * `linked` says depend on each other, form one incident. Union-find over members sorted by start,
 * so O(n log n) for n anomalies. Incidents are ordered by severity, then most recent activity.
 */
export function groupIncidents<T extends IncidentMember>(
  anomalies: readonly T[],
  nowMs: number,
  opts: { slackMs?: number; linked?: (a: number, b: number) => boolean } = {},
): Incident<T>[] {
  const slack = opts.slackMs ?? INCIDENT_SLACK_MS;
  const sorted = [...anomalies].sort((a, b) => a.startMs - b.startMs || a.id.localeCompare(b.id));
  const parent = sorted.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  const end = (a: T) => a.endMs ?? nowMs;
  const related = (a: T, b: T) =>
    (a.sourceId === b.sourceId && a.group === b.group) ||
    a.streamIds.includes(b.streamId) ||
    b.streamIds.includes(a.streamId) ||
    (opts.linked?.(a.streamId, b.streamId) ?? false);
  // Sweep: compare each anomaly with the earlier ones still active when it starts.
  const active: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    for (let k = active.length - 1; k >= 0; k--) {
      if (end(sorted[active[k]!]!) + slack < a.startMs) active.splice(k, 1);
    }
    for (const j of active) if (related(a, sorted[j]!)) union(i, j);
    active.push(i);
  }
  const byRoot = new Map<number, T[]>();
  for (let i = 0; i < sorted.length; i++) {
    const r = find(i);
    let list = byRoot.get(r);
    if (!list) byRoot.set(r, (list = []));
    list.push(sorted[i]!);
  }
  const out: Incident<T>[] = [];
  for (const members of byRoot.values()) {
    const streams = new Set<number>();
    let severity: TSeverity = "low";
    let peak = -Infinity;
    let endMs: number | null = -Infinity;
    let anyOpen = false;
    let anyAck = false;
    for (const m of members) {
      streams.add(m.streamId);
      for (const s of m.streamIds) streams.add(s);
      if (SEV_RANK[m.severity] > SEV_RANK[severity]) severity = m.severity;
      peak = Math.max(peak, m.peakScore);
      endMs = m.endMs === null || endMs === null ? null : Math.max(endMs, m.endMs);
      if (m.status === "open") anyOpen = true;
      if (m.status === "acknowledged") anyAck = true;
    }
    out.push({
      id: members[0]!.id,
      members,
      streamIds: [...streams],
      startMs: members[0]!.startMs,
      endMs,
      severity,
      peakScore: peak,
      status: anyOpen ? "open" : anyAck ? "acknowledged" : "resolved",
      lastActivityMs: endMs ?? nowMs,
    });
  }
  return out.sort(
    (a, b) =>
      SEV_RANK[b.severity] - SEV_RANK[a.severity] ||
      b.lastActivityMs - a.lastActivityMs ||
      b.startMs - a.startMs ||
      a.id.localeCompare(b.id),
  );
}
