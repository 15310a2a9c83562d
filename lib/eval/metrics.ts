/**
 * Event-level detection metrics against ground-truth windows.
 *
 * Definitions (all restricted to the evaluation period, rows with t >= evalStartMs; the
 * training-only lead-in is never scored):
 * - Truth window w = rows with w.startMs <= t <= w.endMs. Its *matching span* extends the end by
 *   `toleranceMs` (default 5 min) so a causal detector that fires just after a short spike still
 *   counts.
 * - Predicted event = a run of consecutive rows with isAnomaly = 1.
 * - Precision = predicted events overlapping some matching span / predicted events.
 *   (Several events inside one window all count as true positives; flapping is instead visible
 *   in the event counts and the FPR.) NaN when there are no predicted events.
 * - Recall = truth windows with at least one flagged row in their matching span / truth windows.
 *   NaN when the scenario has no truth windows.
 * - F1 = 2PR/(P+R); 0 when nothing was predicted but there was something to find; NaN when
 *   there was nothing to find.
 * - FPR (row level) = flagged normal rows / normal rows, where normal rows are eval rows outside
 *   every matching span.
 * - False alarms per day = false-positive events / length of the eval period in days.
 * - Detection delay = first flagged row in the matching span − window start, in seconds, for
 *   each detected window (never negative: a run already under way counts from the start).
 */
import { lowerBound, runs } from "./events";

export const DEFAULT_TOLERANCE_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

export interface TruthSpan {
  startMs: number;
  endMs: number;
}

export interface EvaluateInput {
  timestampsMs: ArrayLike<number>;
  isAnomaly: ArrayLike<number>;
  truth: readonly TruthSpan[];
  /** Rows before this are warm-up and ignored. Default: first row. */
  evalStartMs?: number;
  /** Grace after each window end (ms). Default 5 min. */
  toleranceMs?: number;
}

/** Raw counts: these add up across scenarios (micro-averaging). */
export interface DetectionCounts {
  predictedEvents: number;
  truePositiveEvents: number;
  falsePositiveEvents: number;
  truthWindows: number;
  detectedWindows: number;
  normalRows: number;
  flaggedNormalRows: number;
  evalDays: number;
  /** One entry per detected window, seconds. */
  delaysSec: number[];
  /** One entry per truth window in order: its delay in seconds, or null if missed. */
  windowDelaysSec: (number | null)[];
}

export interface DetectionMetrics extends DetectionCounts {
  precision: number;
  recall: number;
  f1: number;
  fpr: number;
  falseAlarmsPerDay: number;
  /** Mean detection delay over detected windows (s); NaN if none detected. */
  detectionDelaySec: number;
  /** Median detection delay (s); NaN if none detected. */
  detectionDelayMedianSec: number;
}

export function countDetections(input: EvaluateInput): DetectionCounts {
  const { timestampsMs: ts, isAnomaly, truth } = input;
  const tol = input.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  const n = Math.min(ts.length, isAnomaly.length);
  const from = input.evalStartMs === undefined ? 0 : lowerBound(ts, input.evalStartMs);

  // Per-row mark: inside some matching span?
  const inSpan = new Uint8Array(n);
  const spans = truth.filter((w) => w.endMs >= (ts[from] ?? Infinity));
  for (const w of spans) {
    const a = Math.max(from, lowerBound(ts, w.startMs));
    const b = lowerBound(ts, w.endMs + tol + 1e-6); // exclusive
    for (let i = a; i < Math.min(b, n); i++) inSpan[i] = 1;
  }

  let predictedEvents = 0;
  let truePositiveEvents = 0;
  for (const r of runs(isAnomaly, from, n - 1)) {
    predictedEvents++;
    let hit = false;
    for (let i = r.start; i <= r.end && !hit; i++) hit = inSpan[i] === 1;
    if (hit) truePositiveEvents++;
  }

  let detectedWindows = 0;
  const delaysSec: number[] = [];
  const windowDelaysSec: (number | null)[] = [];
  for (const w of spans) {
    const a = Math.max(from, lowerBound(ts, w.startMs));
    const b = Math.min(n, lowerBound(ts, w.endMs + tol + 1e-6));
    let delay: number | null = null;
    for (let i = a; i < b; i++) {
      if ((isAnomaly[i] ?? 0) > 0) {
        delay = Math.max(0, ((ts[i] ?? 0) - w.startMs) / 1000);
        break;
      }
    }
    windowDelaysSec.push(delay);
    if (delay !== null) {
      detectedWindows++;
      delaysSec.push(delay);
    }
  }

  let normalRows = 0;
  let flaggedNormalRows = 0;
  for (let i = from; i < n; i++) {
    if (inSpan[i]) continue;
    normalRows++;
    if ((isAnomaly[i] ?? 0) > 0) flaggedNormalRows++;
  }

  const step = n > 1 ? ((ts[n - 1] ?? 0) - (ts[0] ?? 0)) / (n - 1) : 0;
  const evalDays = n > from ? ((ts[n - 1] ?? 0) - (ts[from] ?? 0) + step) / DAY_MS : 0;

  return {
    predictedEvents,
    truePositiveEvents,
    falsePositiveEvents: predictedEvents - truePositiveEvents,
    truthWindows: spans.length,
    detectedWindows,
    normalRows,
    flaggedNormalRows,
    evalDays,
    delaysSec,
    windowDelaysSec,
  };
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >>> 1;
  return s.length % 2 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/** Precision, recall, F1, FPR... from counts (works for one scenario or summed counts). */
export function metricsFromCounts(c: DetectionCounts): DetectionMetrics {
  const precision = c.predictedEvents > 0 ? c.truePositiveEvents / c.predictedEvents : Number.NaN;
  const recall = c.truthWindows > 0 ? c.detectedWindows / c.truthWindows : Number.NaN;
  let f1: number;
  if (c.truthWindows === 0) f1 = Number.NaN;
  else if (c.predictedEvents === 0) f1 = 0;
  else f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return {
    ...c,
    precision,
    recall,
    f1,
    fpr: c.normalRows > 0 ? c.flaggedNormalRows / c.normalRows : Number.NaN,
    falseAlarmsPerDay: c.evalDays > 0 ? c.falsePositiveEvents / c.evalDays : Number.NaN,
    detectionDelaySec: mean(c.delaysSec),
    detectionDelayMedianSec: median(c.delaysSec),
  };
}

export function evaluateDetection(input: EvaluateInput): DetectionMetrics {
  return metricsFromCounts(countDetections(input));
}

/**
 * Micro-average: sum the event and row counts of every scenario, then compute the ratios once
 * (a scenario with more events weighs more; delays are pooled over all detected windows).
 */
export function microAverage(parts: readonly DetectionCounts[]): DetectionMetrics {
  const sum: DetectionCounts = {
    predictedEvents: 0,
    truePositiveEvents: 0,
    falsePositiveEvents: 0,
    truthWindows: 0,
    detectedWindows: 0,
    normalRows: 0,
    flaggedNormalRows: 0,
    evalDays: 0,
    delaysSec: [],
    windowDelaysSec: [],
  };
  for (const p of parts) {
    sum.predictedEvents += p.predictedEvents;
    sum.truePositiveEvents += p.truePositiveEvents;
    sum.falsePositiveEvents += p.falsePositiveEvents;
    sum.truthWindows += p.truthWindows;
    sum.detectedWindows += p.detectedWindows;
    sum.normalRows += p.normalRows;
    sum.flaggedNormalRows += p.flaggedNormalRows;
    sum.evalDays += p.evalDays;
    sum.delaysSec.push(...p.delaysSec);
    sum.windowDelaysSec.push(...p.windowDelaysSec);
  }
  return metricsFromCounts(sum);
}
