import type { DecodedSeries } from "./types";

/**
 * A large file's samples in commits cut by time across all its series: each slice holds every
 * series' samples of one time window (at most `max` samples, unless one timestamp alone has
 * more). Samples are stored in rows of 32 streams at one timestamp (server/repos/sample-blocks.ts),
 * so a slice of a wide file fills those rows; cutting series by series instead wrote one row
 * per sample, and each later slice of the same times first had to read back the rows the earlier
 * ones wrote.
 *
 * A series is put in time order first (stable: of a (stream, timestamp) given twice, the first
 * stays first), and a slice never ends between two samples of the same timestamp, so repeats
 * of a (stream, timestamp) always meet in one commit. Cost per slice: O(s · log n · b) for s series
 * of n samples, b ≤ 64 bisection steps over the times; independent of `max`.
 */
export function* timeSlices<S extends DecodedSeries>(series: S[], max: number): Generator<S[]> {
  const ordered = series.map(inTimeOrder).filter((s) => s.tsMs.length > 0);
  const pos = new Int32Array(ordered.length);
  let last = -Infinity;
  for (const s of ordered) last = Math.max(last, s.tsMs[s.tsMs.length - 1]!);
  // samples not yet sliced with a time ≤ t
  const countUpTo = (t: number) => {
    let n = 0;
    ordered.forEach((s, k) => (n += upperBound(s.tsMs, t, pos[k]!) - pos[k]!));
    return n;
  };
  for (;;) {
    let first = Infinity;
    ordered.forEach((s, k) => pos[k]! < s.tsMs.length && (first = Math.min(first, s.tsMs[pos[k]!]!)));
    if (first === Infinity) return;
    // the latest cut time whose slice holds at most `max` samples (or the first time alone):
    // bisection keeps count(lo) ≤ max < count(hi) until lo and hi are neighbouring doubles
    let lo = first;
    let hi = last;
    if (countUpTo(hi) <= max) lo = hi;
    else if (countUpTo(lo) <= max) {
      for (;;) {
        const mid = lo + (hi - lo) / 2;
        if (mid <= lo || mid >= hi) break;
        if (countUpTo(mid) <= max) lo = mid;
        else hi = mid;
      }
    }
    const slice: S[] = [];
    ordered.forEach((s, k) => {
      const from = pos[k]!;
      const to = upperBound(s.tsMs, lo, from);
      if (to > from) slice.push({ ...s, tsMs: s.tsMs.slice(from, to), values: s.values.slice(from, to) });
      pos[k] = to;
    });
    yield slice;
  }
}

/** The first index at or after `from` whose time is after `t` (`ts` ascending). */
function upperBound(ts: number[], t: number, from: number): number {
  let lo = from;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The series with its samples in time order (stable); itself when already so. */
function inTimeOrder<S extends DecodedSeries>(s: S): S {
  let sorted = true;
  for (let i = 1; i < s.tsMs.length && sorted; i++) sorted = s.tsMs[i - 1]! <= s.tsMs[i]!;
  if (sorted) return s;
  const order = Array.from(s.tsMs.keys()).sort((a, b) => s.tsMs[a]! - s.tsMs[b]! || a - b);
  return { ...s, tsMs: order.map((i) => s.tsMs[i]!), values: order.map((i) => s.values[i]!) };
}
