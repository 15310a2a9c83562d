/**
 * Width of the rows of the rollups' five-minute tier (sample_rollup_5m, score_rollup_5m; kept by
 * triggers on the one-minute rows, migration 20261208120000_rollup_5m). Chart buckets that are a
 * whole number of them read the tier: the same values as from the minute rows, from a fifth of
 * the rows.
 */
export const FIVE_MINUTES_MS = 300_000;

/**
 * Bucket width for a chart of about `maxPoints` buckets over `spanMs`: whole seconds, and from
 * five minutes up a whole number of five minutes (rounded up), so every long range reads the
 * five-minute tier. The rounding costs points only just above five minutes (5 min 1 s becomes
 * 10 min: half the points); the 30-day stream page (2,016 points: 1,286 s) gets 25-minute
 * buckets, 1,728 points, from 8,640 five-minute rows per series instead of 43,200 minute rows.
 *
 * Every reader that lays series on a grid of its own (`gridOver`) must use this width too.
 */
export function chartBucketMs(spanMs: number, maxPoints: number): number {
  const ms = Math.max(1000, Math.ceil(spanMs / maxPoints / 1000) * 1000);
  return ms > FIVE_MINUTES_MS ? Math.ceil(ms / FIVE_MINUTES_MS) * FIVE_MINUTES_MS : ms;
}
