import { pool } from "../db";

export interface RelatedAnomaly {
  anomalyId: string;
  streamId: number;
  key: string;
  startMs: number;
  peakScore: number;
  severity: string;
}

/** A group of streams: one source, and within it one `group` label (null: streams without one). */
export interface StreamGroup {
  sourceId: number;
  group: string | null;
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

export interface GroupScores {
  streamId: number;
  key: string;
  /** Per minute: peak score, and for gauges the mean value with the forecast and its band's upper edge (NaN when unknown). */
  points: { t: number; score: number; value: number; expected: number; upper: number }[];
}

/**
 * Per-minute peak scores of the group's streams (and `alsoStreamIds`) over [fromMs, toMs), only
 * for streams scored in that range ("the same hours"): at most `maxStreams`, those with the
 * highest peak first. Gauges also bring the minute's mean value and forecast (counters are
 * scored as rates: their raw value is not on the forecast's scale).
 */
export async function groupScoreMinutes(g: StreamGroup, alsoStreamIds: number[], fromMs: number, toMs: number, maxStreams: number): Promise<GroupScores[]> {
  const res = await pool().query<{ stream_id: number; key: string; t: number[]; s: number[]; v: (number | null)[]; e: (number | null)[]; u: (number | null)[] }>(
    `WITH r AS (
       SELECT r.stream_id, r.bucket, r.score, r.expected, r.upper FROM score_rollup_1m r JOIN stream s ON s.id = r.stream_id
       WHERE ((s.source_id = $1 AND s."group" IS NOT DISTINCT FROM $2) OR r.stream_id = ANY($3::int[]))
         AND r.bucket >= to_timestamp($4 / 1000.0) AND r.bucket < to_timestamp($5 / 1000.0)
     ), top AS (
       SELECT stream_id FROM r GROUP BY stream_id
       ORDER BY max(score) FILTER (WHERE score <> 'NaN') DESC NULLS LAST, stream_id LIMIT $6
     )
     SELECT r.stream_id, s.key, array_agg((extract(epoch FROM r.bucket) * 1000)::float8 ORDER BY r.bucket) AS t,
            array_agg(r.score ORDER BY r.bucket) AS s,
            array_agg(CASE WHEN s.kind = 'gauge' AND v.count > 0 THEN v.sum / v.count END ORDER BY r.bucket) AS v,
            array_agg(r.expected ORDER BY r.bucket) AS e,
            array_agg(r.upper ORDER BY r.bucket) AS u
     FROM r JOIN top USING (stream_id) JOIN stream s ON s.id = r.stream_id
     LEFT JOIN sample_rollup_1m v ON v.stream_id = r.stream_id AND v.bucket = r.bucket
     GROUP BY r.stream_id, s.key`,
    [g.sourceId, g.group, alsoStreamIds, fromMs, toMs, maxStreams],
  );
  const num = (x: number | null | undefined) => (x === null || x === undefined ? Number.NaN : x);
  return res.rows.map((r) => ({
    streamId: r.stream_id,
    key: r.key,
    points: r.t.map((t, i) => ({ t, score: r.s[i]!, value: num(r.v[i]), expected: num(r.e[i]), upper: num(r.u[i]) })),
  }));
}
