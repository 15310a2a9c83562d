import { isStale, typicalStep } from "@/lib/triage/freshness";
import { listAttentionIncidents } from "../../repos/incidents-repo";
import { unpack } from "../../repos/storage/stream-recent";

/** Incidents shown in the band; the rest are counted and linked. */
const MAX_INCIDENTS = 50;

/**
 * The overview's "needs attention" band: the stored incidents still open or acknowledged that
 * were detected live (history from imports and backfills excluded), worst first, then ongoing,
 * then most recent. Each says how old its newest sample is and whether its streams went quiet.
 */
export async function needsAttention(nowMs = Date.now()) {
  const { rows, total } = await listAttentionIncidents(MAX_INCIDENTS);
  return {
    nowMs,
    total,
    incidents: rows.map((inc) => {
      let lastSampleAtMs: number | null = null;
      let allStale = true;
      for (const h of inc.streamHealth) {
        if (h.lastSampleAtMs !== null) lastSampleAtMs = Math.max(lastSampleAtMs ?? -Infinity, h.lastSampleAtMs);
        if (!isStale(h.lastSampleAtMs, typicalStep(unpack(h.sparkT)), nowMs)) allStale = false;
      }
      return {
        id: inc.id,
        severity: inc.severity,
        status: inc.status,
        startMs: inc.startMs,
        endMs: inc.endMs,
        peakScore: inc.peakScore,
        sourceName: inc.sourceName,
        group: inc.group,
        anomalyCount: inc.anomalyCount,
        streamCount: inc.streamIds.length,
        types: inc.types,
        streams: inc.streams.map((s) => ({ metric: s.metric, labels: s.labels })),
        lastSampleAtMs,
        stale: allStale,
      };
    }),
  };
}
