/**
 * Real exports repeat timestamps (two scrapes in one second, a retried write) and go back in time
 * (a clock step, files concatenated out of order). The detectors need a clock that never goes
 * back, so such rows are scored at the newest time seen so far: a late row counts as data that
 * arrived now, a repeated one as a second reading of the same instant. Every row keeps its score;
 * nothing is dropped or reordered.
 */
export interface TimeOrder {
  /** Per row: max(own timestamp, every earlier row's timestamp). */
  effectiveMs: Float64Array;
  /** Rows older than an earlier row. */
  late: number;
  /** Rows at exactly the newest timestamp seen before them. */
  duplicate: number;
  /** Largest lag of a late row behind the newest timestamp (ms); 0 when none. */
  maxLateMs: number;
  /** Index of the first late and first duplicate row (−1 when none), for messages. */
  firstLate: number;
  firstDuplicate: number;
}

export function monotoneTimes(timestampsMs: ArrayLike<number>): TimeOrder {
  const n = timestampsMs.length;
  const effectiveMs = new Float64Array(n);
  let newest = -Infinity;
  let late = 0;
  let duplicate = 0;
  let maxLateMs = 0;
  let firstLate = -1;
  let firstDuplicate = -1;
  for (let i = 0; i < n; i++) {
    const t = timestampsMs[i]!;
    if (t < newest) {
      late++;
      if (firstLate < 0) firstLate = i;
      if (newest - t > maxLateMs) maxLateMs = newest - t;
    } else if (t === newest) {
      duplicate++;
      if (firstDuplicate < 0) firstDuplicate = i;
    } else newest = t;
    effectiveMs[i] = newest;
  }
  return { effectiveMs, late, duplicate, maxLateMs, firstLate, firstDuplicate };
}
