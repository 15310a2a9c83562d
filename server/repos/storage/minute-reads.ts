import { FIVE_MINUTES_MS } from "@/lib/series/chart-buckets";
import { pool } from "../../db";

/** Reads of the one-minute rollups (values and scores) for prediction and explanation. */

export interface MinuteMean {
  streamId: number;
  t: number;
  mean: number;
}

/**
 * Per-minute mean values of gauge streams over [fromMs, toMs), from the rollup, in time order
 * (`streamIds` null: every gauge). What the trend predictor learns levels from.
 */
export async function gaugeMinuteMeans(fromMs: number, toMs: number, streamIds: number[] | null): Promise<MinuteMean[]> {
  if (streamIds !== null && streamIds.length === 0) return [];
  const res = await pool().query<{ stream_id: number; t: number; mean: number }>(
    `SELECT r.stream_id, (extract(epoch FROM r.bucket) * 1000)::float8 AS t, r.sum / r.count AS mean
     FROM sample_rollup_1m r JOIN stream s ON s.id = r.stream_id
     WHERE s.kind = 'gauge' AND r.count > 0 AND r.bucket >= to_timestamp($1 / 1000.0) AND r.bucket < to_timestamp($2 / 1000.0)
       AND ($3::int[] IS NULL OR r.stream_id = ANY($3::int[]))
     ORDER BY r.bucket`,
    [fromMs, toMs, streamIds],
  );
  return res.rows.map((r) => ({ streamId: r.stream_id, t: r.t, mean: r.mean }));
}

/** A group of streams: one source, and within it one `group` label (null: streams without one). */
export interface StreamGroup {
  sourceId: number;
  group: string | null;
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

/**
 * Per gauge stream of `streamIds`, its mean value per `bucketMs` bucket (epoch-aligned) over
 * [fromMs, toMs), sorted ascending: the reference range that cause ranking measures a value's
 * tail against (`historyReference` in lib/explain/cause-ranking.ts computes the same from raw
 * rows). Five-minute buckets come from the five-minute tier (2,016 rows a stream for a week),
 * other widths from the minute rollup. Streams without data there are absent.
 */
export async function gaugeBucketMeansSorted(streamIds: number[], fromMs: number, toMs: number, bucketMs: number): Promise<Map<number, Float64Array>> {
  const out = new Map<number, Float64Array>();
  if (streamIds.length === 0 || !(toMs > fromMs)) return out;
  const inner =
    bucketMs === FIVE_MINUTES_MS
      ? `SELECT r.stream_id, r.sum / r.count AS m
         FROM sample_rollup_5m r JOIN stream s ON s.id = r.stream_id
         WHERE s.kind = 'gauge' AND r.count > 0 AND r.stream_id = ANY($1::int[])
           AND r.bucket >= to_timestamp($2 / 1000.0) AND r.bucket < to_timestamp($3 / 1000.0) AND $4::float8 > 0`
      : `SELECT r.stream_id, sum(r.sum) / sum(r.count) AS m
         FROM sample_rollup_1m r JOIN stream s ON s.id = r.stream_id
         WHERE s.kind = 'gauge' AND r.count > 0 AND r.stream_id = ANY($1::int[])
           AND r.bucket >= to_timestamp($2 / 1000.0) AND r.bucket < to_timestamp($3 / 1000.0)
         GROUP BY r.stream_id, floor(extract(epoch FROM r.bucket) * 1000 / $4::float8)`;
  const res = await pool().query<{ stream_id: number; m: number[] }>(`SELECT stream_id, array_agg(m ORDER BY m) AS m FROM (${inner}) x GROUP BY stream_id`, [
    streamIds,
    fromMs,
    toMs,
    bucketMs,
  ]);
  for (const r of res.rows) out.set(r.stream_id, Float64Array.from(r.m, Number));
  return out;
}
