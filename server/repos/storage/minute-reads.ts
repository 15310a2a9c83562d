import { counterRate, counterRates } from "@/lib/explain/cause-ranking";
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
  /**
   * Per minute: peak score, the mean value (a gauge's; a counter's rate: `counterRate` of its
   * minute mean against the previous minute with samples) with the forecast and its band's upper
   * edge (NaN when unknown).
   */
  points: { t: number; score: number; value: number; expected: number; upper: number }[];
}

/**
 * Per-minute peak scores of the group's streams (and `alsoStreamIds`) over [fromMs, toMs), only
 * for streams scored in that range ("the same hours"): at most `maxStreams`, those with the
 * highest peak first. Gauges also bring the minute's mean value and forecast, counters their
 * rate (they are scored as rates: their raw value is not on the forecast's scale), and events
 * nothing.
 */
export async function groupScoreMinutes(g: StreamGroup, alsoStreamIds: number[], fromMs: number, toMs: number, maxStreams: number): Promise<GroupScores[]> {
  const res = await pool().query<{
    stream_id: number;
    key: string;
    kind: string;
    t: number[];
    s: number[];
    v: (number | null)[];
    pv: (number | null)[];
    pt: (number | null)[];
    e: (number | null)[];
    u: (number | null)[];
  }>(
    `WITH r AS (
       SELECT r.stream_id, r.bucket, r.score, r.expected, r.upper FROM score_rollup_1m r JOIN stream s ON s.id = r.stream_id
       WHERE ((s.source_id = $1 AND s."group" IS NOT DISTINCT FROM $2) OR r.stream_id = ANY($3::int[]))
         AND r.bucket >= to_timestamp($4 / 1000.0) AND r.bucket < to_timestamp($5 / 1000.0)
     ), top AS (
       SELECT stream_id FROM r GROUP BY stream_id
       ORDER BY max(score) FILTER (WHERE score <> 'NaN') DESC NULLS LAST, stream_id LIMIT $6
     )
     SELECT r.stream_id, s.key, s.kind::text AS kind, array_agg((extract(epoch FROM r.bucket) * 1000)::float8 ORDER BY r.bucket) AS t,
            array_agg(r.score ORDER BY r.bucket) AS s,
            array_agg(CASE WHEN s.kind IN ('gauge', 'counter') AND v.count > 0 THEN v.sum / v.count END ORDER BY r.bucket) AS v,
            array_agg(pr.pv ORDER BY r.bucket) AS pv,
            array_agg(pr.pt ORDER BY r.bucket) AS pt,
            array_agg(r.expected ORDER BY r.bucket) AS e,
            array_agg(r.upper ORDER BY r.bucket) AS u
     FROM r JOIN top USING (stream_id) JOIN stream s ON s.id = r.stream_id
     LEFT JOIN sample_rollup_1m v ON v.stream_id = r.stream_id AND v.bucket = r.bucket
     -- a counter's previous minute with samples, which its rate is taken against
     LEFT JOIN LATERAL (
       SELECT p.sum / p.count AS pv, (extract(epoch FROM p.bucket) * 1000)::float8 AS pt FROM sample_rollup_1m p
       WHERE s.kind = 'counter' AND p.stream_id = r.stream_id AND p.count > 0 AND p.bucket < r.bucket
       ORDER BY p.bucket DESC LIMIT 1
     ) pr ON true
     GROUP BY r.stream_id, s.key, s.kind`,
    [g.sourceId, g.group, alsoStreamIds, fromMs, toMs, maxStreams],
  );
  const num = (x: number | null | undefined) => (x === null || x === undefined ? Number.NaN : x);
  return res.rows.map((r) => ({
    streamId: r.stream_id,
    key: r.key,
    points: r.t.map((t, i) => ({
      t,
      score: r.s[i]!,
      value: r.kind === "counter" ? counterRate(num(r.pv[i]), num(r.pt[i]), num(r.v[i]), t) : num(r.v[i]),
      expected: num(r.e[i]),
      upper: num(r.u[i]),
    })),
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

/**
 * Per counter stream of `streamIds`, its rate per `bucketMs` bucket over [fromMs, toMs), sorted
 * ascending: `counterRate` of each bucket's mean value against the previous bucket with samples
 * (the one before the span included; buckets across a reset are left out). The reference range
 * of a counter, which cause ranking ranks by its rate; `historyReference` over the CLI's rates
 * gives the same when a stream has at most one sample per bucket (with more, the mean of its
 * rates in a bucket, which this approaches on evenly spaced samples). Tiers as
 * `gaugeBucketMeansSorted`. Streams without data there are absent.
 */
export async function counterBucketRatesSorted(streamIds: number[], fromMs: number, toMs: number, bucketMs: number): Promise<Map<number, Float64Array>> {
  const out = new Map<number, Float64Array>();
  if (streamIds.length === 0 || !(toMs > fromMs)) return out;
  const table = bucketMs === FIVE_MINUTES_MS ? "sample_rollup_5m" : "sample_rollup_1m";
  // each counter's last bucket with samples before the span, aligned to `bucketMs`: the first
  // bucket's rate is taken against it
  const res = await pool().query<{ stream_id: number; t: number[]; m: number[] }>(
    `WITH c AS (
       SELECT s.id, (SELECT floor(extract(epoch FROM max(p.bucket)) * 1000 / $4::float8) * $4::float8 FROM ${table} p
                     WHERE p.stream_id = s.id AND p.count > 0 AND p.bucket < to_timestamp($2 / 1000.0)) AS before_ms
       FROM stream s WHERE s.kind = 'counter' AND s.id = ANY($1::int[])
     ), b AS (
       SELECT r.stream_id, floor(extract(epoch FROM r.bucket) * 1000 / $4::float8) * $4::float8 AS t, sum(r.sum) / sum(r.count) AS m
       FROM ${table} r JOIN c ON c.id = r.stream_id
       WHERE r.count > 0 AND r.bucket >= to_timestamp(LEAST($2::float8, c.before_ms) / 1000.0) AND r.bucket < to_timestamp($3 / 1000.0)
       GROUP BY r.stream_id, 2
     )
     SELECT stream_id, array_agg(t ORDER BY t) AS t, array_agg(m ORDER BY t) AS m FROM b GROUP BY stream_id`,
    [streamIds, fromMs, toMs, bucketMs],
  );
  for (const r of res.rows) {
    const t = r.t.map(Number);
    const rates = counterRates(t, r.m.map(Number));
    const inSpan: number[] = [];
    t.forEach((tj, j) => {
      if (tj >= fromMs && Number.isFinite(rates[j]!)) inSpan.push(rates[j]!);
    });
    if (inSpan.length > 0) out.set(r.stream_id, Float64Array.from(inSpan).sort());
  }
  return out;
}
