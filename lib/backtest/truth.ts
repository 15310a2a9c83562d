/**
 * Precision and recall of predicted anomalies against ground-truth ranges, per stream: a
 * prediction is a hit when it overlaps a range of its stream; a range is found when a
 * prediction overlaps it. Open predictions last until `endMs` (the end of the replayed data).
 */
export interface TimeRange {
  streamId: number;
  startMs: number;
  /** null: still open */
  endMs: number | null;
}

export interface TruthScore {
  /** ground-truth ranges, and how many of them a prediction overlaps */
  ranges: number;
  found: number;
  /** predictions, and how many of them overlap a range */
  predicted: number;
  hits: number;
  /** null when undefined (no predictions / no ranges) */
  precision: number | null;
  recall: number | null;
}

const overlaps = (a: TimeRange, b: TimeRange, endMs: number) => a.startMs <= (b.endMs ?? endMs) && b.startMs <= (a.endMs ?? endMs);

export function scoreAgainstTruth(predicted: readonly TimeRange[], truth: readonly TimeRange[], endMs: number): TruthScore {
  const byStream = new Map<number, TimeRange[]>();
  for (const t of truth) {
    let l = byStream.get(t.streamId);
    if (!l) byStream.set(t.streamId, (l = []));
    l.push(t);
  }
  const found = new Set<TimeRange>();
  let hits = 0;
  for (const p of predicted) {
    let hit = false;
    for (const t of byStream.get(p.streamId) ?? []) {
      if (!overlaps(p, t, endMs)) continue;
      hit = true;
      found.add(t);
    }
    if (hit) hits++;
  }
  return {
    ranges: truth.length,
    found: found.size,
    predicted: predicted.length,
    hits,
    precision: predicted.length ? hits / predicted.length : null,
    recall: truth.length ? found.size / truth.length : null,
  };
}
