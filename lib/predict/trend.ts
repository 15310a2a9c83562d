/**
 * Trend extrapolation for slowly developing incidents (a disk filling, a leak, a backlog,
 * creeping latency): the probability that a stream's level leaves its normal range within a
 * horizon, from a robust slope of its recent past.
 *
 * Per stream, the last `windowMs` are kept as `buckets` bucket means (noise and single outliers
 * average out). The slope is the Theil–Sen estimator (the median of the pairwise slopes; up to
 * 29 % of the buckets may be wild without moving it) with Sen's distribution-free confidence
 * interval from the ranks of the pairwise slopes (Kendall's S variance), the level now is the
 * median of the buckets' residuals projected to now. The level after h is then Normal with mean
 * level + slope·h and a spread from the interval's width and the residuals' spread, and the
 * probability is that of being past the range's edge at the horizon (a steady drift only moves
 * further by then). Strict on purpose: nothing is predicted unless the interval excludes a flat
 * trend, the whole window and its day-earlier twin are held, and the projection lies on the side
 * of the edge it would cross.
 *
 * Sen 1968, "Estimates of the regression coefficient based on Kendall's tau", JASA 63:1379.
 * Cost: O(streams) per row; O(buckets²·log) per stream per projection.
 */
import { normalCdf } from "./normal";

export interface TrendOptions {
  windowMs?: number;
  buckets?: number;
  /** Two-sided z of Sen's slope interval (3.29: 99.9 %). */
  z?: number;
  /** The season removed before the slope is taken (a day). */
  seasonMs?: number;
  /** The past over which the level's normal range is taken (a week: weekdays and weekends). */
  rangeMs?: number;
}

export const TREND_DEFAULTS = { windowMs: 2 * 3_600_000, buckets: 24, z: 3.29, seasonMs: 86_400_000, rangeMs: 7 * 86_400_000 } as const;

export interface TrendProjection {
  probability: number;
  /** Slope per ms (Theil–Sen) of the difference from the same time a season earlier. */
  slopePerMs: number;
  /** The projected value at the horizon (NaN when there is no trend to project). */
  projected: number;
  direction: "above" | "below" | null;
}

const NONE: TrendProjection = { probability: 0, slopePerMs: 0, projected: Number.NaN, direction: null };

/** Median of an already sorted array. */
function sortedMedian(s: Float64Array): number {
  const n = s.length;
  const m = n >> 1;
  return n % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export class TrendTracker {
  readonly bucketMs: number;
  private readonly nb: number;
  /** Buckets kept: a season plus the window plus the horizon's reach. */
  private readonly keep: number;
  private readonly season: number;
  private readonly range: number;
  private readonly z: number;
  /** Per stream × bucket slot: sum and count of values, and the bucket index held. */
  private readonly sum: Float64Array;
  private readonly cnt: Uint32Array;
  private readonly idx: Float64Array;
  /** Scratch for a projection: bucket times, differences and pairwise slopes. */
  private readonly ts: Float64Array;
  private readonly ds: Float64Array;
  private readonly slopes: Float64Array;
  /** levelRange cache per stream: low, high and the bucket it was computed at (refreshed hourly-ish). */
  private readonly rangeLow: Float64Array;
  private readonly rangeHigh: Float64Array;
  private readonly rangeAt: Float64Array;

  constructor(
    readonly streams: number,
    opts: TrendOptions = {},
  ) {
    const windowMs = opts.windowMs ?? TREND_DEFAULTS.windowMs;
    this.nb = opts.buckets ?? TREND_DEFAULTS.buckets;
    this.bucketMs = windowMs / this.nb;
    this.season = Math.round((opts.seasonMs ?? TREND_DEFAULTS.seasonMs) / this.bucketMs);
    this.range = Math.round((opts.rangeMs ?? TREND_DEFAULTS.rangeMs) / this.bucketMs);
    this.keep = Math.max(this.season, this.range) + 2 * this.nb;
    this.z = opts.z ?? TREND_DEFAULTS.z;
    this.sum = new Float64Array(streams * this.keep);
    this.cnt = new Uint32Array(streams * this.keep);
    this.idx = new Float64Array(streams * this.keep).fill(Number.NaN);
    this.ts = new Float64Array(this.nb);
    this.ds = new Float64Array(this.nb);
    this.slopes = new Float64Array((this.nb * (this.nb - 1)) / 2);
    this.rangeLow = new Float64Array(streams).fill(Number.NaN);
    this.rangeHigh = new Float64Array(streams).fill(Number.NaN);
    this.rangeAt = new Float64Array(streams).fill(Number.NaN);
  }

  observe(tsMs: number, values: ArrayLike<number>): void {
    const b = Math.floor(tsMs / this.bucketMs);
    const slot = ((b % this.keep) + this.keep) % this.keep;
    for (let i = 0; i < this.streams; i++) {
      const x = values[i]!;
      if (x !== x) continue;
      const k = i * this.keep + slot;
      if (this.idx[k] !== b) {
        this.idx[k] = b;
        this.sum[k] = 0;
        this.cnt[k] = 0;
      }
      this.sum[k] = this.sum[k]! + x;
      this.cnt[k] = this.cnt[k]! + 1;
    }
  }

  /** Mean of stream i in bucket b (NaN when not held). */
  private bucket(i: number, b: number): number {
    const k = i * this.keep + (((b % this.keep) + this.keep) % this.keep);
    return this.idx[k] === b && this.cnt[k]! > 0 ? this.sum[k]! / this.cnt[k]! : Number.NaN;
  }

  /**
   * The range of stream i's level (its bucket means) over the `rangeMs` before the trend window:
   * what the level did in the past week, without the drift being judged. Null until a season
   * (a day) of it is held.
   */
  levelRange(i: number, nowMs: number): { low: number; high: number } | null {
    const cur = Math.floor(nowMs / this.bucketMs);
    // a week's range moves slowly: recomputed every half window (O(range) per stream then)
    const at = this.rangeAt[i]!;
    if (cur >= at && cur - at < this.nb / 2) {
      const lo = this.rangeLow[i]!;
      const hi = this.rangeHigh[i]!;
      return lo === lo ? { low: lo, high: hi } : null;
    }
    this.rangeAt[i] = cur;
    this.rangeLow[i] = Number.NaN;
    let low = Infinity;
    let high = -Infinity;
    let held = 0;
    for (let b = cur - this.nb - this.range; b < cur - this.nb; b++) {
      const y = this.bucket(i, b);
      if (y !== y) continue;
      held++;
      if (y < low) low = y;
      if (y > high) high = y;
    }
    if (!(held >= this.season && high >= low)) return null;
    this.rangeLow[i] = low;
    this.rangeHigh[i] = high;
    return { low, high };
  }

  /**
   * Probability that stream i is outside [low, high] `horizonMs` after `nowMs`. The slope is
   * that of the difference from the same time a season (a day) earlier, so a normal daily ramp
   * is no trend; the projection is the value a season before the horizon plus that difference
   * extrapolated. Only completed buckets count, and all of the window's must be there with
   * their season-earlier twins.
   */
  project(i: number, nowMs: number, horizonMs: number, low: number, high: number): TrendProjection {
    const cur = Math.floor(nowMs / this.bucketMs);
    const hb = Math.max(1, Math.round(horizonMs / this.bucketMs));
    if (hb > this.nb) return NONE;
    const ahead = this.bucket(i, cur + hb - this.season);
    if (ahead !== ahead) return NONE;
    const ts = this.ts;
    const ds = this.ds;
    let n = 0;
    for (let b = cur - this.nb; b < cur; b++) {
      const d = this.bucket(i, b) - this.bucket(i, b - this.season);
      if (d !== d) continue;
      ts[n] = (b + 0.5) * this.bucketMs - nowMs; // relative to now: no cancellation at epoch scale
      ds[n++] = d;
    }
    if (n < this.nb - 1) return NONE;
    let N = 0;
    const slopes = this.slopes;
    for (let a = 0; a < n; a++) for (let c = a + 1; c < n; c++) slopes[N++] = (ds[c]! - ds[a]!) / (ts[c]! - ts[a]!);
    const sorted = slopes.subarray(0, N).sort();
    const slope = sortedMedian(sorted);
    // Sen's interval: ranks (N ∓ z·√Var S)/2 of the ordered pairwise slopes
    const c = this.z * Math.sqrt((n * (n - 1) * (2 * n + 5)) / 18);
    const lo = sorted[Math.max(0, Math.floor((N - c) / 2))]!;
    const hi = sorted[Math.min(N - 1, Math.ceil((N + c) / 2))]!;
    const resid = new Float64Array(n);
    for (let k = 0; k < n; k++) resid[k] = ds[k]! - slope * ts[k]!;
    const icpt = sortedMedian(resid.sort());
    for (let k = 0; k < n; k++) resid[k] = Math.abs(resid[k]! - icpt);
    const mad = 1.4826 * sortedMedian(resid.sort());
    const horizonT = (cur + hb + 0.5) * this.bucketMs - nowMs;
    const mu = ahead + icpt + slope * horizonT;
    const mid = (low + high) / 2;
    const up = lo > 0 && mu > mid;
    const down = hi < 0 && mu < mid;
    if (!up && !down) return { ...NONE, slopePerMs: slope, projected: mu };
    // the slope's 1-σ from the interval's half-width; the level's from the residuals (twice: today's and the season-earlier bucket)
    const sdSlope = (hi - lo) / (2 * this.z);
    const sd = Math.sqrt((mad * mad) * (1 / n + 0.5) + (sdSlope * horizonT) ** 2) || Number.MIN_VALUE;
    const p = up ? 1 - normalCdf((high - mu) / sd) : normalCdf((low - mu) / sd);
    return { probability: p, slopePerMs: slope, projected: mu, direction: up ? "above" : "below" };
  }
}

/** How far past its normal range, as a share of the range's width, a drift must be projected. */
export const LEVEL_MARGIN = 0.25;

export interface LevelExceedance extends TrendProjection {
  /** The band the projection is tested against: the past week's level range widened by `margin`. */
  low: number;
  high: number;
  /** When the projected level crosses the band's edge (within the horizon; null: no crossing). */
  etaMs: number | null;
}

/**
 * The prediction the CLI's `p_anomaly_30m`, the evaluation and the worker share: the probability
 * that stream i's level is past its past week's level range, widened by `margin` of its width,
 * `horizonMs` after `nowMs` (many metrics sit on a floor or ceiling, or wander a little beyond
 * the range: only a drift well past it counts). Null while the range is not known (a day).
 */
export function levelExceedance(tr: TrendTracker, i: number, nowMs: number, horizonMs: number, margin = LEVEL_MARGIN): LevelExceedance | null {
  const lr = tr.levelRange(i, nowMs);
  if (!lr) return null;
  const m = margin * (lr.high - lr.low);
  const low = lr.low - m;
  const high = lr.high + m;
  const p = tr.project(i, nowMs, horizonMs, low, high);
  let etaMs: number | null = null;
  if (p.direction !== null && p.slopePerMs !== 0) {
    // the projected level moves by the slope: back from the horizon to where it meets the edge
    const edge = p.direction === "above" ? high : low;
    const back = (p.projected - edge) / p.slopePerMs;
    if (back >= 0) etaMs = nowMs + Math.max(0, horizonMs - back);
  }
  return { ...p, low, high, etaMs };
}
