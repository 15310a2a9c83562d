import { pool } from "../db";
import type { StreamGroup } from "./storage/minute-reads";

export interface RelatedAnomaly {
  anomalyId: string;
  streamId: number;
  key: string;
  startMs: number;
  peakScore: number;
  severity: string;
}

/**
 * Anomalies on the group's streams (or on `alsoStreamIds`) that opened within [fromMs, toMs]:
 * the candidates for a causal story. Onset inside the window, not mere overlap: an anomaly
 * left open for days on an unrelated import would otherwise join every story.
 */
export async function groupAnomaliesStarting(g: StreamGroup, alsoStreamIds: number[], fromMs: number, toMs: number, excludeId: string, limit: number): Promise<RelatedAnomaly[]> {
  const res = await pool().query(
    `SELECT a.id, a.stream_id, s.key, (extract(epoch FROM a.start_at) * 1000)::float8 AS start_ms, a.peak_score, a.severity::text AS severity
     FROM anomaly a JOIN stream s ON s.id = a.stream_id
     WHERE a.id <> $3 AND a.start_at >= to_timestamp($1 / 1000.0) AND a.start_at <= to_timestamp($2 / 1000.0)
       AND ((s.source_id = $4 AND s."group" IS NOT DISTINCT FROM $5) OR a.stream_id = ANY($6::int[]))
     ORDER BY a.peak_score DESC LIMIT $7`,
    [fromMs, toMs, excludeId, g.sourceId, g.group, alsoStreamIds, limit],
  );
  return res.rows.map((r) => ({
    anomalyId: r.id,
    streamId: r.stream_id,
    key: r.key,
    startMs: r.start_ms,
    peakScore: r.peak_score,
    severity: r.severity,
  }));
}
