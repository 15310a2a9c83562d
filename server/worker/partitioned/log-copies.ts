/**
 * Which messages of a run are copies of messages folded before. The sample log can hold a
 * commit twice: an outbox take-over publishes it again after JetStream's 2-minute duplicate
 * window (docs/scale-out.md "Outbox"). Storage keeps one row per (stream, ts) (a re-sent
 * sample is left out at commit), so two messages never carry the same (stream, ts) unless one
 * is a copy of the other; and a copy arrives after its original, so its samples are behind the
 * partition's clock. A message is therefore a copy when one of its late samples was scored
 * already: stored with a score, scored by an earlier message of the same run, or late in an
 * earlier message of the run too. A genuinely late sample (history, a lagging shard) is new to
 * storage and has no score yet. A copy is skipped whole, since each of its samples was folded
 * into the rollup and scored (or not: superseded within its step) with the original.
 */
export function copiedMessages(
  late: { n: number; at(k: number): { id: number; tsMs: number; seq: number } },
  /** per late sample (same order): 1 when its (stream, ts) has a stored score */
  storedScore: Uint8Array,
  /** the run's scores so far (its on-time steps) */
  runScores: { streamIds: readonly number[]; tsMs: readonly number[] },
): Set<number> {
  const copies = new Set<number>();
  if (late.n === 0) return copies;
  const key = (id: number, tsMs: number) => `${id}@${tsMs}`;
  const lateStreams = new Set<number>();
  for (let k = 0; k < late.n; k++) lateStreams.add(late.at(k).id);
  const scoredInRun = new Set<string>();
  for (let i = 0; i < runScores.tsMs.length; i++) if (lateStreams.has(runScores.streamIds[i]!)) scoredInRun.add(key(runScores.streamIds[i]!, runScores.tsMs[i]!));
  const lateIn = new Map<string, number>();
  for (let k = 0; k < late.n; k++) {
    const { id, tsMs, seq } = late.at(k);
    const kk = key(id, tsMs);
    const first = lateIn.get(kk);
    if (storedScore[k] === 1 || scoredInRun.has(kk) || (first !== undefined && first !== seq)) copies.add(seq);
    if (first === undefined) lateIn.set(kk, seq);
  }
  return copies;
}
