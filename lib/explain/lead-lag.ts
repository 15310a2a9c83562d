/**
 * Lead–lag analysis between two metric series sampled on the same grid: which one moved first,
 * by how much time, and how strongly the moves agree. Works on first differences (so shared
 * trends and levels don't masquerade as coupling), standardised robustly, with NaN = missing.
 * Cost O(n · maxLag).
 */

export interface LeadLag {
  /** Positive: `a` leads `b` by `lag` steps (b follows a). */
  lag: number;
  /**
   * Pearson correlation of the differenced series at that lag (−1…1); null when it cannot be
   * computed at any lag (fewer than `MIN_PAIRS` overlapping moves, or a series that never moves).
   */
  correlation: number | null;
  /** Overlapping points used at the best lag. */
  n: number;
}

function diffs(x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(Math.max(0, x.length - 1));
  for (let i = 1; i < x.length; i++) out[i - 1] = x[i]! - x[i - 1]!;
  return out;
}

/** Fewest overlapping pairs of moves a correlation is computed from. */
export const MIN_PAIRS = 8;

function corrAtLag(a: Float64Array, b: Float64Array, lag: number): { r: number | null; n: number } {
  // pairs (a[i], b[i + lag])
  let n = 0;
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  for (let i = 0; i < a.length; i++) {
    const j = i + lag;
    if (j < 0 || j >= b.length) continue;
    const x = a[i]!;
    const y = b[j]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    n++;
    sa += x;
    sb += y;
    saa += x * x;
    sbb += y * y;
    sab += x * y;
  }
  if (n < MIN_PAIRS) return { r: null, n };
  const cov = sab - (sa * sb) / n;
  const va = saa - (sa * sa) / n;
  const vb = sbb - (sb * sb) / n;
  if (va <= 1e-12 || vb <= 1e-12) return { r: null, n };
  return { r: cov / Math.sqrt(va * vb), n };
}

/**
 * Best lag in [−maxLag, maxLag] by absolute correlation; ties go to the smaller |lag|. When no
 * lag has a computable correlation the result says so (`correlation: null`, lag 0) rather
 * than reporting 0, which would read as "measured: unrelated".
 */
export function leadLag(a: ArrayLike<number>, b: ArrayLike<number>, maxLag: number): LeadLag {
  const da = diffs(a);
  const db = diffs(b);
  let best: LeadLag = { lag: 0, correlation: null, n: 0 };
  for (let d = 0; d <= maxLag; d++) {
    for (const lag of d === 0 ? [0] : [d, -d]) {
      const { r, n } = corrAtLag(da, db, lag);
      if (r === null) continue;
      if (best.correlation === null || Math.abs(r) > Math.abs(best.correlation) + 1e-9) best = { lag, correlation: r, n };
    }
  }
  return best;
}

export interface TimelineEntry {
  streamId: number;
  onsetMs: number;
  peakScore: number;
  /** Seconds relative to the reference anomaly's start (negative = moved earlier). */
  offsetSec: number;
  /** From lead–lag against the reference stream (null: not enough data to compute). */
  lagSec?: number | null;
  correlation?: number | null;
}

/**
 * Orders involved streams by when they first became anomalous and names a probable origin: the
 * earliest stream whose movement is also coupled with the reference (|r| ≥ minCorrelation) or,
 * failing that, simply the earliest.
 */
export function causalTimeline(
  referenceStartMs: number,
  entries: Omit<TimelineEntry, "offsetSec">[],
  minCorrelation = 0.3,
): { timeline: TimelineEntry[]; originStreamId: number | null } {
  const timeline = entries
    .map((e) => ({ ...e, offsetSec: Math.round((e.onsetMs - referenceStartMs) / 1000) }))
    .sort((x, y) => x.onsetMs - y.onsetMs || y.peakScore - x.peakScore);
  const coupled = timeline.find((e) => e.correlation === undefined || (e.correlation !== null && Math.abs(e.correlation) >= minCorrelation));
  return { timeline, originStreamId: (coupled ?? timeline[0])?.streamId ?? null };
}
