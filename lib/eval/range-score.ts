/**
 * Point, event (range-based) and composite precision / recall / F1 of per-row scores against 0/1
 * labels, as used for multivariate server corpora (SMD, ASD); pure, no I/O.
 *
 * Alarm = score ≥ threshold. Ground-truth events are maximal runs of label 1; alarm runs are
 * maximal runs of consecutive alarms.
 * - point: TP/FP/FN over rows.
 * - event: recall = share of events with at least one alarm; precision = mean over alarm runs of
 *   the share of the run lying inside events (Tatbul et al. 2018, flat bias), so one alarm run
 *   covering the whole test set cannot score precision 1.
 * - composite: point precision with event recall (Garg et al. 2021).
 * "Swept" picks, per metric, the threshold with the best F1 among at most `grid` candidates
 * spread evenly over the sorted distinct scores (an oracle, optimistic); "fixed" is the honest
 * figure at a declared threshold.
 */

export interface Prf {
  precision: number;
  recall: number;
  f1: number;
}

export interface RangeMetrics {
  threshold: number;
  point: Prf & { tp: number; fp: number; fn: number };
  event: Prf & { events: number; eventsDetected: number; alarmRuns: number; alarmRunsOnEvents: number };
  composite: Prf;
}

export type RangeMetricName = "point" | "event" | "composite";
export const RANGE_METRICS: readonly RangeMetricName[] = ["point", "event", "composite"];

export interface RangeFileResult {
  rows: number;
  events: number;
  /** Best F1 per metric, each at its own threshold. */
  swept: Record<RangeMetricName, Prf & { threshold: number }>;
  fixed: RangeMetrics | null;
}

const f1 = (p: number, r: number): number => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

/** Maximal runs of label 1, inclusive row ranges. */
export function labelEvents(label: ArrayLike<number>): [number, number][] {
  const ev: [number, number][] = [];
  for (let i = 0; i < label.length; i++) {
    if (!label[i]) continue;
    if (i > 0 && label[i - 1]) ev[ev.length - 1]![1] = i;
    else ev.push([i, i]);
  }
  return ev;
}

export function rangeMetricsAt(score: ArrayLike<number>, label: ArrayLike<number>, events: readonly (readonly [number, number])[], T: number): RangeMetrics {
  const n = label.length;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) {
    const alarm = score[i]! >= T;
    if (alarm && label[i]) tp++;
    else if (alarm) fp++;
    else if (label[i]) fn++;
  }
  let hit = 0;
  for (const [s, e] of events) {
    for (let i = s; i <= e; i++) {
      if (score[i]! >= T) {
        hit++;
        break;
      }
    }
  }
  let runs = 0;
  let onEvents = 0;
  let precSum = 0;
  for (let i = 0; i < n; ) {
    if (!(score[i]! >= T)) {
      i++;
      continue;
    }
    let j = i;
    let inside = 0;
    while (j < n && score[j]! >= T) {
      if (label[j]) inside++;
      j++;
    }
    runs++;
    if (inside) onEvents++;
    precSum += inside / (j - i);
    i = j;
  }
  const pp = tp + fp ? tp / (tp + fp) : 0;
  const pr = tp + fn ? tp / (tp + fn) : 0;
  const ep = runs ? precSum / runs : 0;
  const er = events.length ? hit / events.length : 0;
  return {
    threshold: T,
    point: { precision: pp, recall: pr, f1: f1(pp, pr), tp, fp, fn },
    event: { precision: ep, recall: er, f1: f1(ep, er), events: events.length, eventsDetected: hit, alarmRuns: runs, alarmRunsOnEvents: onEvents },
    composite: { precision: pp, recall: er, f1: f1(pp, er) },
  };
}

/** At most `grid` thresholds spread evenly over the sorted distinct finite scores. */
export function candidateThresholds(score: ArrayLike<number>, grid = 2000): number[] {
  const u = [...new Set(Array.from(score).filter(Number.isFinite))].sort((a, b) => a - b);
  if (u.length <= grid) return u;
  const c: number[] = [];
  for (let k = 0; k < grid; k++) c.push(u[Math.floor((k * (u.length - 1)) / (grid - 1))]!);
  return [...new Set(c)];
}

export function rangeScore(score: ArrayLike<number>, label: ArrayLike<number>, opts: { threshold?: number; grid?: number } = {}): RangeFileResult {
  if (score.length !== label.length) throw new Error(`${score.length} scores for ${label.length} labels`);
  const events = labelEvents(label);
  const all = candidateThresholds(score, opts.grid).map((T) => rangeMetricsAt(score, label, events, T));
  const empty = rangeMetricsAt(score, label, events, Infinity);
  const swept = {} as RangeFileResult["swept"];
  for (const m of RANGE_METRICS) {
    let b = all[0] ?? empty;
    for (const r of all) if (r[m].f1 > b[m].f1) b = r;
    swept[m] = { threshold: b.threshold, precision: b[m].precision, recall: b[m].recall, f1: b[m].f1 };
  }
  return { rows: label.length, events: events.length, swept, fixed: opts.threshold === undefined ? null : rangeMetricsAt(score, label, events, opts.threshold) };
}

/** Unweighted mean over files (each server counts once), swept and fixed. */
export function meanRange(results: readonly RangeFileResult[]): { swept: Record<RangeMetricName, Prf>; fixed: Record<RangeMetricName, Prf> | null } {
  const mean = (pick: (r: RangeFileResult) => Prf): Prf => {
    const k = results.length || 1;
    const s = { precision: 0, recall: 0, f1: 0 };
    for (const r of results) {
      const p = pick(r);
      s.precision += p.precision / k;
      s.recall += p.recall / k;
      s.f1 += p.f1 / k;
    }
    return s;
  };
  const swept = {} as Record<RangeMetricName, Prf>;
  for (const m of RANGE_METRICS) swept[m] = mean((r) => r.swept[m]);
  let fixed: Record<RangeMetricName, Prf> | null = null;
  if (results.length > 0 && results.every((r) => r.fixed)) {
    fixed = {} as Record<RangeMetricName, Prf>;
    for (const m of RANGE_METRICS) fixed[m] = mean((r) => r.fixed![m]);
  }
  return { swept, fixed };
}
