import { pool } from "../db";

export interface RelatedAnomaly {
  anomalyId: string;
  streamId: number;
  key: string;
  startMs: number;
  peakScore: number;
  severity: string;
}

/** Anomalies on other streams that overlap a time window (the candidates for a causal story). */
export async function anomaliesOverlapping(fromMs: number, toMs: number, excludeId: string, limit: number): Promise<RelatedAnomaly[]> {
  const res = await pool().query(
    `SELECT a.id, a.stream_id, s.key, (extract(epoch FROM a.start_at) * 1000)::float8 AS start_ms, a.peak_score, a.severity::text AS severity
     FROM anomaly a JOIN stream s ON s.id = a.stream_id
     WHERE a.id <> $3 AND a.start_at <= to_timestamp($2 / 1000.0) AND COALESCE(a.end_at, now()) >= to_timestamp($1 / 1000.0)
     ORDER BY a.peak_score DESC LIMIT $4`,
    [fromMs, toMs, excludeId, limit],
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
