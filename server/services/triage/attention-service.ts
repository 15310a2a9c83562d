import { groupIncidents } from "@/lib/triage/incidents";
import { isStale } from "@/lib/triage/freshness";
import { listAttentionAnomalies } from "../../repos/anomalies-repo";

/** Open anomalies read per call: far more than a team can triage at once, bounded for the overview's budget. */
const MAX_ANOMALIES = 500;
const MAX_INCIDENTS = 50;
const MEMBERS_SHOWN = 6;

/**
 * The overview's "needs attention" band: open anomalies detected live (history from imports and
 * backfills excluded), grouped into incidents, by severity then recency. Each incident says how
 * old its newest sample is and whether its streams went quiet.
 */
export async function needsAttention(nowMs = Date.now()) {
  const rows = await listAttentionAnomalies(MAX_ANOMALIES);
  const incidents = groupIncidents(rows, nowMs);
  return {
    nowMs,
    total: incidents.length,
    incidents: incidents.slice(0, MAX_INCIDENTS).map((inc) => {
      let lastSampleAtMs: number | null = null;
      let allStale = true;
      const streams = new Map<number, { metric: string; labels: Record<string, string> }>();
      for (const m of inc.members) {
        if (m.lastSampleAtMs !== null) lastSampleAtMs = Math.max(lastSampleAtMs ?? -Infinity, m.lastSampleAtMs);
        if (!isStale(m.lastSampleAtMs, m.stepMs, nowMs)) allStale = false;
        streams.set(m.streamId, { metric: m.metric, labels: m.labels });
      }
      const lead = inc.members.reduce((best, m) => (m.peakScore > best.peakScore ? m : best), inc.members[0]!);
      return {
        id: inc.id,
        leadId: lead.id,
        severity: inc.severity,
        status: inc.status,
        startMs: inc.startMs,
        endMs: inc.endMs,
        peakScore: inc.peakScore,
        sourceName: lead.sourceName,
        group: lead.group,
        anomalyCount: inc.members.length,
        streamCount: inc.streamIds.length,
        types: [...new Set(inc.members.map((m) => m.type))],
        streams: [...streams.values()].slice(0, MEMBERS_SHOWN),
        memberIds: inc.members.map((m) => m.id),
        lastSampleAtMs,
        stale: allStale,
      };
    }),
  };
}
