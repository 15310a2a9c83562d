import { z } from "zod";
import { pool } from "../db";
import { queryRow, queryRows, ZMs } from "./rows";

export interface PredictionRow {
  streamId: number;
  computedAtMs: number;
  horizonMs: number;
  probability: number;
  etaMs: number | null;
  direction: "above" | "below" | null;
  envelopeLow: number | null;
  envelopeHigh: number | null;
  forecast: { t: number[]; expected: number[]; lower: number[]; upper: number[] };
}

export async function upsertPredictions(rows: PredictionRow[]): Promise<void> {
  if (rows.length === 0) return;
  await pool().query(
    `INSERT INTO prediction (stream_id, computed_at, horizon_ms, probability, eta_at, direction, envelope_low, envelope_high, forecast)
     SELECT s, to_timestamp(c / 1000.0), h, p, CASE WHEN e IS NULL THEN NULL ELSE to_timestamp(e / 1000.0) END, d, lo, hi, f::jsonb
     FROM unnest($1::int[], $2::float8[], $3::int[], $4::float8[], $5::float8[], $6::text[], $7::float8[], $8::float8[], $9::text[])
       AS x(s, c, h, p, e, d, lo, hi, f)
     WHERE EXISTS (SELECT 1 FROM stream WHERE stream.id = x.s)
     ON CONFLICT (stream_id) DO UPDATE SET computed_at = EXCLUDED.computed_at, horizon_ms = EXCLUDED.horizon_ms,
       probability = EXCLUDED.probability, eta_at = EXCLUDED.eta_at, direction = EXCLUDED.direction,
       envelope_low = EXCLUDED.envelope_low, envelope_high = EXCLUDED.envelope_high, forecast = EXCLUDED.forecast`,
    [
      rows.map((r) => r.streamId),
      rows.map((r) => r.computedAtMs),
      rows.map((r) => r.horizonMs),
      rows.map((r) => r.probability),
      rows.map((r) => r.etaMs),
      rows.map((r) => r.direction),
      rows.map((r) => r.envelopeLow),
      rows.map((r) => r.envelopeHigh),
      rows.map((r) => JSON.stringify(r.forecast)),
    ],
  );
}

const SELECT = `SELECT p.stream_id, s.key, (extract(epoch FROM p.computed_at) * 1000)::float8 AS computed_ms, p.horizon_ms, p.probability,
       (extract(epoch FROM p.eta_at) * 1000)::float8 AS eta_ms, p.direction, p.envelope_low, p.envelope_high, p.forecast
  FROM prediction p JOIN stream s ON s.id = p.stream_id`;

/** JSON has no NaN: a point that JSON.stringify stored as null reads back NaN. */
const ZPoints = z.array(z.number().nullable()).transform((xs) => xs.map((x) => x ?? Number.NaN));

const ZPrediction = z
  .object({
    stream_id: z.number(),
    key: z.string(),
    computed_ms: ZMs,
    horizon_ms: z.number(),
    probability: z.number(),
    eta_ms: ZMs.nullable(),
    direction: z.enum(["above", "below"]).nullable(),
    envelope_low: z.number().nullable(),
    envelope_high: z.number().nullable(),
    forecast: z.object({ t: ZPoints, expected: ZPoints, lower: ZPoints, upper: ZPoints }),
  })
  .transform(
    (r): PredictionRow & { key: string } => ({
      streamId: r.stream_id,
      key: r.key,
      computedAtMs: r.computed_ms,
      horizonMs: r.horizon_ms,
      probability: r.probability,
      etaMs: r.eta_ms,
      direction: r.direction,
      envelopeLow: r.envelope_low,
      envelopeHigh: r.envelope_high,
      forecast: r.forecast,
    }),
  );

/**
 * A prediction is live while its horizon, counted from the stream's newest sample, still reaches
 * `nowMs`: a stream that stopped long ago keeps a model (and the worker keeps forecasting from
 * its last level), but "within the next 30 minutes" means nothing for it.
 */
const LIVE = `s.last_sample_at IS NOT NULL AND s.last_sample_at + make_interval(secs => p.horizon_ms / 1000.0) >= to_timestamp($NOW / 1000.0)`;

/** Streams most likely to leave their envelope soon (fresh predictions of live streams only). */
export async function listPredictions(minProbability: number, freshSinceMs: number, limit: number, nowMs = freshSinceMs) {
  return queryRows(
    pool(),
    ZPrediction,
    `${SELECT} WHERE p.probability >= $1 AND p.computed_at >= to_timestamp($2 / 1000.0) AND ${LIVE.replace("$NOW", "$4")}
     ORDER BY p.probability DESC, p.eta_at NULLS LAST LIMIT $3`,
    [minProbability, freshSinceMs, limit, nowMs],
  );
}

/** One stream's stored prediction (whether or not the stream is still live). */
export async function getPrediction(streamId: number) {
  return queryRow(pool(), ZPrediction, `${SELECT} WHERE p.stream_id = $1`, [streamId]);
}

/** One stream's prediction when it is live at `nowMs` (see `LIVE`), else null. */
export async function getLivePrediction(streamId: number, nowMs: number) {
  return queryRow(pool(), ZPrediction, `${SELECT} WHERE p.stream_id = $1 AND ${LIVE.replace("$NOW", "$2")}`, [streamId, nowMs]);
}
