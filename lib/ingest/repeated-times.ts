/**
 * Samples of one stream at one time, given more than once in a file (a wide file with a row
 * repeated, a long file listing a stream's row twice). Storage keeps one sample per (stream,
 * time), the first written, so a CSV's later repeats would never be stored: the reader drops
 * them up front, and the check (dry run) and the import both count and name them instead of
 * reporting samples that are not stored.
 */

/** What `dropRepeatedTimes` removed from one series. */
export interface RepeatedTimes {
  /** samples dropped */
  dropped: number;
  /** the first few repeated times, each with how many samples the file gave at it */
  examples: { tsMs: number; given: number }[];
}

const EXAMPLES = 3;

/**
 * Removes, in place, each sample whose time the series already has earlier in the file (the
 * first in file order is kept, as storage keeps the first of a (stream, time)); the others keep
 * their order. O(n) for a series already in strictly increasing time order, else O(n log n).
 */
export function dropRepeatedTimes(s: { tsMs: number[]; values: number[] }): RepeatedTimes {
  const t = s.tsMs;
  let increasing = true;
  for (let k = 1; k < t.length && increasing; k++) increasing = t[k]! > t[k - 1]!;
  if (increasing) return { dropped: 0, examples: [] };
  // by time, then by file order: the first of each run of equal times is the one kept
  const order = Array.from(t.keys()).sort((a, b) => t[a]! - t[b]! || a - b);
  const drop = new Uint8Array(t.length);
  const examples: RepeatedTimes["examples"] = [];
  let dropped = 0;
  for (let k = 1; k < order.length; k++) {
    if (t[order[k]!] !== t[order[k - 1]!]) continue;
    drop[order[k]!] = 1;
    dropped++;
    const last = examples.at(-1);
    if (last !== undefined && last.tsMs === t[order[k]!]) last.given++;
    else if (examples.length < EXAMPLES) examples.push({ tsMs: t[order[k]!]!, given: 2 });
  }
  if (dropped === 0) return { dropped, examples };
  let o = 0;
  for (let j = 0; j < t.length; j++) {
    if (drop[j]) continue;
    t[o] = t[j]!;
    s.values[o] = s.values[j]!;
    o++;
  }
  t.length = o;
  s.values.length = o;
  return { dropped, examples };
}

/**
 * The sentence an answer gives about a file's repeated times (empty when none): how many samples
 * are skipped and the first few `examples` (`CsvDecoded.duplicateExamples`).
 */
export function describeRepeats(duplicates: number, examples: readonly string[]): string {
  if (duplicates === 0) return "";
  const samples = duplicates === 1 ? "1 sample is" : `${duplicates} samples are`;
  return `${samples} skipped: each repeats a time its stream already has earlier in the file, and only the first is stored (e.g. ${examples.slice(0, 3).join("; ")}).`;
}
