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
 * of a (stream, timestamp) always meet in one commit. Cost: O(n log s) for n samples of s series.
 */
export function* timeSlices<S extends DecodedSeries>(series: S[], max: number): Generator<S[]> {
  const ordered = series.map(inTimeOrder);
  const pos = new Int32Array(ordered.length);
  // min-heap of series indexes by their next timestamp
  const heap: number[] = [];
  const next = (s: number) => ordered[s]!.tsMs[pos[s]!]!;
  const less = (a: number, b: number) => next(a) < next(b) || (next(a) === next(b) && a < b);
  const push = (s: number) => {
    let i = heap.push(s) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  };
  ordered.forEach((s, k) => s.tsMs.length && push(k));
  while (heap.length) {
    const from = Int32Array.from(pos);
    let taken = 0;
    let lastTs = Number.NaN;
    while (heap.length && (taken < max || next(heap[0]!) === lastTs)) {
      const s = pop();
      lastTs = next(s);
      pos[s] = pos[s]! + 1;
      taken++;
      if (pos[s]! < ordered[s]!.tsMs.length) push(s);
    }
    const slice: S[] = [];
    ordered.forEach((s, k) => {
      if (pos[k]! > from[k]!) slice.push({ ...s, tsMs: s.tsMs.slice(from[k], pos[k]), values: s.values.slice(from[k], pos[k]) });
    });
    yield slice;
  }
}

/** The series with its samples in time order (stable); itself when already so. */
function inTimeOrder<S extends DecodedSeries>(s: S): S {
  let sorted = true;
  for (let i = 1; i < s.tsMs.length && sorted; i++) sorted = s.tsMs[i - 1]! <= s.tsMs[i]!;
  if (sorted) return s;
  const order = Array.from(s.tsMs.keys()).sort((a, b) => s.tsMs[a]! - s.tsMs[b]! || a - b);
  return { ...s, tsMs: order.map((i) => s.tsMs[i]!), values: order.map((i) => s.values[i]!) };
}
