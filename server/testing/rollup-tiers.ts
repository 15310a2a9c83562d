import { pool } from "../db";

/**
 * Checks of the rollups' five-minute tier against their one-minute rows, computed here from the
 * minute rows on their own (not with the triggers' statements): every (stream, five minutes)
 * that differs or exists in one tier only, for values and scores. Counts, extremes and the
 * forecast's weight must match exactly; sums up to float rounding (the tier adds them in
 * another order).
 */

const FIVE = "date_bin('5 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00')";
const near = (a: string, b: string) => `abs(${a} - ${b}) > 1e-9 * greatest(1, abs(${a}))`;

export interface TierDrift {
  table: "sample" | "score";
  streamId: number;
  t: number;
  minutes: unknown;
  tier: unknown;
}

export async function fiveMinuteDrift(): Promise<TierDrift[]> {
  const samples = await pool().query<{ stream_id: number; t: number; minutes: unknown; tier: unknown }>(
    `WITH m AS (SELECT stream_id, ${FIVE} AS bucket, min(min) AS min, max(max) AS max, sum(sum) AS sum, sum(count)::int AS count
                FROM sample_rollup_1m GROUP BY 1, 2)
     SELECT coalesce(m.stream_id, f.stream_id) AS stream_id, (extract(epoch FROM coalesce(m.bucket, f.bucket)) * 1000)::float8 AS t,
            CASE WHEN m.stream_id IS NOT NULL THEN json_build_array(m.min, m.max, m.sum, m.count) END AS minutes,
            CASE WHEN f.stream_id IS NOT NULL THEN json_build_array(f.min, f.max, f.sum, f.count) END AS tier
     FROM m FULL JOIN sample_rollup_5m f ON f.stream_id = m.stream_id AND f.bucket = m.bucket
     WHERE m.stream_id IS NULL OR f.stream_id IS NULL OR m.count <> f.count OR m.min <> f.min OR m.max <> f.max OR ${near("m.sum", "f.sum")}
     ORDER BY 1, 2`,
  );
  const scores = await pool().query<{ stream_id: number; t: number; minutes: unknown; tier: unknown }>(
    `WITH m AS (SELECT stream_id, ${FIVE} AS bucket, coalesce(max(score) FILTER (WHERE score <> 'NaN'), 'NaN') AS score,
                       sum(confidence * n) AS confidence_sum, coalesce(sum(expected * n), 0) AS expected_sum,
                       coalesce(sum(n) FILTER (WHERE expected IS NOT NULL), 0)::int AS expected_n, min(lower) AS lower, max(upper) AS upper, sum(n)::int AS n
                FROM score_rollup_1m GROUP BY 1, 2)
     SELECT coalesce(m.stream_id, f.stream_id) AS stream_id, (extract(epoch FROM coalesce(m.bucket, f.bucket)) * 1000)::float8 AS t,
            CASE WHEN m.stream_id IS NOT NULL THEN json_build_array(m.score::text, m.confidence_sum, m.expected_sum, m.expected_n, m.lower, m.upper, m.n) END AS minutes,
            CASE WHEN f.stream_id IS NOT NULL THEN json_build_array(f.score::text, f.confidence_sum, f.expected_sum, f.expected_n, f.lower, f.upper, f.n) END AS tier
     FROM m FULL JOIN score_rollup_5m f ON f.stream_id = m.stream_id AND f.bucket = m.bucket
     WHERE m.stream_id IS NULL OR f.stream_id IS NULL OR m.n <> f.n OR m.expected_n <> f.expected_n OR m.score IS DISTINCT FROM f.score
        OR m.lower IS DISTINCT FROM f.lower OR m.upper IS DISTINCT FROM f.upper
        OR ${near("m.confidence_sum", "f.confidence_sum")} OR ${near("m.expected_sum", "f.expected_sum")}
     ORDER BY 1, 2`,
  );
  const out = (table: TierDrift["table"], rows: { stream_id: number; t: number; minutes: unknown; tier: unknown }[]) =>
    rows.map((r) => ({ table, streamId: r.stream_id, t: r.t, minutes: r.minutes, tier: r.tier }));
  return [...out("sample", samples.rows), ...out("score", scores.rows)];
}

/** Samples counted in the five-minute tier per five minutes of one stream (epoch ms → count). */
export async function fiveMinuteCounts(streamId: number): Promise<Map<number, number>> {
  const res = await pool().query<{ t: number; n: number }>(
    "SELECT (extract(epoch FROM bucket) * 1000)::float8 AS t, count AS n FROM sample_rollup_5m WHERE stream_id = $1 ORDER BY bucket",
    [streamId],
  );
  return new Map(res.rows.map((r) => [r.t, r.n]));
}
