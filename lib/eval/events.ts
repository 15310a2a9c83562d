/** Row runs ("events") from per-row flags. */

/** Inclusive row range. */
export interface RowRun {
  start: number;
  end: number;
}

/**
 * Runs of consecutive flagged rows (flag > 0) within rows [from, to] (inclusive, clamped).
 * A run that crosses `from` is clipped to start at `from`.
 *
 * @example runs([0, 1, 1, 0, 1]) // [{start: 1, end: 2}, {start: 4, end: 4}]
 */
export function runs(flags: ArrayLike<number>, from = 0, to = flags.length - 1): RowRun[] {
  const out: RowRun[] = [];
  const lo = Math.max(0, from);
  const hi = Math.min(flags.length - 1, to);
  let start = -1;
  for (let i = lo; i <= hi; i++) {
    const on = (flags[i] ?? 0) > 0;
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      out.push({ start, end: i - 1 });
      start = -1;
    }
  }
  if (start >= 0) out.push({ start, end: hi });
  return out;
}

/** First index i with timestamps[i] >= t (timestamps ascending); length if none. */
export function lowerBound(timestamps: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = timestamps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((timestamps[mid] ?? 0) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
