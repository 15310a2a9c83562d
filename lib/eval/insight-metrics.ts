/**
 * How good the explanations and predictions are, against labels; pure.
 *
 * Explanation (per labelled event with the streams its labellers marked as involved):
 * - the ranking is built from Omen's own alarms: each stream's evidence (`cause-ranking.ts`:
 *   largest contribution plus a share of its contribution at the peak, with its range part
 *   against the stream's week before the lookback when the values are given) over the event's
 *   flagged rows and the lookback before them, strongest first; an event without an alarm has
 *   none;
 * - HitRate@P% (Su et al. 2019): of the labelled streams, the share among the first
 *   ⌊P/100·|labelled|⌋ ranked streams; top cause labelled: whether the first one is labelled;
 * - origin ranked first (cascades with a known first stream): the ranking at the event's first
 *   flagged row names the origin first.
 * Prediction (`p ≥ threshold` is a prediction):
 * - hit rate: labelled onsets with a prediction 5–60 min before them; lead time: onset − the
 *   first such prediction, averaged over hits;
 * - false predictions: runs of predicting rows with no labelled anomaly under way or starting
 *   within 60 min of the run, per day of evaluated rows;
 * - interval coverage: share of (gauge) points inside the engine's one-step 95 % forecast band.
 * Slowly developing incidents (a drift towards harm at `impactMs`): predicted when a prediction
 * comes from 60 min before the drift starts up to `SLOW_MIN_LEAD_MS` before the harm; the lead
 * is the harm − the first such prediction. False predictions are also given per stream-week.
 */
import { CAUSE_DEFAULTS, historyReference, historySpan, hitRate, PeakEvidence, rankEvidence, withRange } from "../explain/cause-ranking";
import { lowerBound } from "./events";

export interface LabelledEvent {
  /** Inclusive row range. */
  rows: readonly [number, number];
  streams: readonly string[];
}

export interface EventExplanation {
  explained: boolean;
  hitRate100: number | null;
  hitRate150: number | null;
  topCauseLabelled: boolean | null;
  ranked: string[];
}

export function explainEvent(
  streams: readonly string[],
  contributions: Float32Array,
  flagged: ArrayLike<number>,
  ev: LabelledEvent,
  timestampsMs: ArrayLike<number>,
  lookbackMs: number = CAUSE_DEFAULTS.lookbackMs,
  /** Row-major rows × streams: the values behind the contributions (NaN: none); null = no range part. */
  values: Float64Array | null = null,
): EventExplanation {
  const n = streams.length;
  let first = -1;
  let last = -1;
  for (let r = ev.rows[0]; r <= ev.rows[1]; r++) {
    if (!flagged[r]) continue;
    if (first < 0) first = r;
    last = r;
  }
  if (first < 0) return { explained: false, hitRate100: null, hitRate150: null, topCauseLabelled: null, ranked: [] };
  // the ranking at the event's last alarm row: each stream's evidence from the
  // lookback before its first alarm row on (rows before the event included: they are the past)
  const from = Number(timestampsMs[first]) - lookbackMs;
  let r0 = first;
  while (r0 > 0 && Number(timestampsMs[r0 - 1]) >= from) r0--;
  const refs = values ? streamReferences(values, n, timestampsMs, Number(timestampsMs[first]), lookbackMs) : null;
  const acc = new PeakEvidence(n);
  const c = new Float64Array(n);
  for (let r = r0; r <= last; r++) {
    for (let k = 0; k < n; k++) c[k] = refs ? withRange(contributions[r * n + k]!, values![r * n + k]!, refs[k]) : contributions[r * n + k]!;
    acc.add(c);
  }
  const ranked = rankEvidence(streams, acc.evidence()).map((x) => x.stream);
  return {
    explained: true,
    hitRate100: hitRate(ranked, ev.streams, 100),
    hitRate150: hitRate(ranked, ev.streams, 150),
    topCauseLabelled: ranked.length > 0 && ev.streams.includes(ranked[0]!),
    ranked,
  };
}

/** Each stream's reference range (`historyReference`) for an anomaly that opened at `onsetMs`. */
function streamReferences(values: Float64Array, n: number, timestampsMs: ArrayLike<number>, onsetMs: number, lookbackMs: number): Float64Array[] {
  const span = historySpan(onsetMs, lookbackMs);
  const a = lowerBound(timestampsMs, span.fromMs);
  const b = lowerBound(timestampsMs, span.toMs);
  const t = Array.from({ length: b - a }, (_, j) => Number(timestampsMs[a + j]));
  return Array.from({ length: n }, (_, k) =>
    historyReference(
      t,
      Array.from({ length: b - a }, (_, j) => values[(a + j) * n + k]!),
      span,
    ),
  );
}

/** The causes the CLI named at the event's first flagged row (null when it has none). */
export function rankingAtOnset(causes: readonly (readonly string[])[], flagged: ArrayLike<number>, rows: readonly [number, number]): string[] | null {
  for (let r = rows[0]; r <= rows[1]; r++) if (flagged[r]) return [...causes[r]!];
  return null;
}

export interface ExplanationSummary {
  events: number;
  eventsExplained: number;
  /** Means over explained events. */
  hitRate100: number | null;
  hitRate150: number | null;
  topCauseLabelled: number | null;
  /** Means over every labelled event, an event without an alarm counting 0. */
  hitRate150AllEvents: number | null;
}

export function summariseExplanations(list: readonly EventExplanation[]): ExplanationSummary {
  const ok = list.filter((e) => e.explained);
  const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  return {
    events: list.length,
    eventsExplained: ok.length,
    hitRate100: mean(ok.map((e) => e.hitRate100!)),
    hitRate150: mean(ok.map((e) => e.hitRate150!)),
    topCauseLabelled: mean(ok.map((e) => (e.topCauseLabelled ? 1 : 0))),
    hitRate150AllEvents: mean(list.map((e) => e.hitRate150 ?? 0)),
  };
}

export interface PredictionInput {
  timestampsMs: ArrayLike<number>;
  pAnomaly: ArrayLike<number>;
  /** Labelled anomalies (ms, inclusive), sorted by start. */
  windows: readonly (readonly [number, number])[];
  /** Rows before this are not evaluated (training, warm-up). */
  evalStartMs: number;
  /** Streams of the table, for false predictions per stream-week. */
  streams?: number;
  threshold: number;
  bandPoints: ArrayLike<number>;
  bandInside: ArrayLike<number>;
}

/** Raw counts: they add up across files and scenarios. */
export interface PredictionCounts {
  onsets: number;
  predicted: number;
  leadMinSum: number;
  predictions: number;
  falsePredictions: number;
  days: number;
  bandPoints: number;
  bandInside: number;
  /** Evaluated rows, and those with a prediction on (a predictor always on "predicts" everything). */
  rows: number;
  predictingRows: number;
  /** Evaluated days × streams (0 when the caller gave no stream count). */
  streamDays: number;
}

export const LEAD_MIN_MS = 5 * 60_000;
export const LEAD_MAX_MS = 60 * 60_000;

export function countPredictions(x: PredictionInput): PredictionCounts {
  const ts = x.timestampsMs;
  const n = ts.length;
  const from = lowerBound(ts, x.evalStartMs);
  const c: PredictionCounts = { onsets: 0, predicted: 0, leadMinSum: 0, predictions: 0, falsePredictions: 0, days: 0, bandPoints: 0, bandInside: 0, rows: 0, predictingRows: 0, streamDays: 0 };
  if (from >= n) return c;
  c.days = (Number(ts[n - 1]) - Number(ts[from])) / 86_400_000;
  c.streamDays = c.days * (x.streams ?? 0);
  for (const [start] of x.windows) {
    if (start < x.evalStartMs) continue;
    c.onsets++;
    const a = lowerBound(ts, start - LEAD_MAX_MS);
    for (let r = a; r < n && Number(ts[r]) <= start - LEAD_MIN_MS; r++) {
      if (x.pAnomaly[r]! >= x.threshold) {
        c.predicted++;
        c.leadMinSum += (start - Number(ts[r])) / 60_000;
        break;
      }
    }
  }
  for (let r = from; r < n; ) {
    if (!(x.pAnomaly[r]! >= x.threshold)) {
      r++;
      continue;
    }
    const runStart = Number(ts[r]);
    while (r < n && x.pAnomaly[r]! >= x.threshold) r++;
    const runEnd = Number(ts[r - 1]);
    c.predictions++;
    const near = x.windows.some(([s, e]) => e >= runStart && s <= runEnd + LEAD_MAX_MS);
    if (!near) c.falsePredictions++;
  }
  for (let r = from; r < n; r++) {
    c.bandPoints += x.bandPoints[r]!;
    c.bandInside += x.bandInside[r]!;
    c.rows++;
    if (x.pAnomaly[r]! >= x.threshold) c.predictingRows++;
  }
  return c;
}

export const SLOW_MIN_LEAD_MS = 30 * 60_000;

export interface SlowIncident {
  startMs: number;
  impactMs: number;
}

export interface SlowCounts {
  incidents: number;
  predicted: number;
  leadMinSum: number;
}

export function countSlowIncidents(timestampsMs: ArrayLike<number>, pAnomaly: ArrayLike<number>, incidents: readonly SlowIncident[], threshold: number): SlowCounts {
  const c: SlowCounts = { incidents: 0, predicted: 0, leadMinSum: 0 };
  const n = timestampsMs.length;
  for (const inc of incidents) {
    c.incidents++;
    for (let r = lowerBound(timestampsMs, inc.startMs - LEAD_MAX_MS); r < n && Number(timestampsMs[r]) <= inc.impactMs - SLOW_MIN_LEAD_MS; r++) {
      if (pAnomaly[r]! >= threshold) {
        c.predicted++;
        c.leadMinSum += (inc.impactMs - Number(timestampsMs[r])) / 60_000;
        break;
      }
    }
  }
  return c;
}

export function addPredictionCounts(list: readonly PredictionCounts[]): PredictionCounts {
  const s: PredictionCounts = { onsets: 0, predicted: 0, leadMinSum: 0, predictions: 0, falsePredictions: 0, days: 0, bandPoints: 0, bandInside: 0, rows: 0, predictingRows: 0, streamDays: 0 };
  for (const c of list) for (const k of Object.keys(s) as (keyof PredictionCounts)[]) s[k] += c[k];
  return s;
}

export interface PredictionSummary {
  threshold: number;
  onsets: number;
  hitRate: number | null;
  leadTimeMinAvg: number | null;
  predictions: number;
  falsePredictionsPerDay: number | null;
  falsePredictionsPerStreamWeek: number | null;
  /** Share of evaluated rows with a prediction on. */
  predictingShare: number | null;
  intervalCoverage95: number | null;
}

export function summarisePredictions(c: PredictionCounts, threshold: number): PredictionSummary {
  return {
    threshold,
    onsets: c.onsets,
    hitRate: c.onsets ? c.predicted / c.onsets : null,
    leadTimeMinAvg: c.predicted ? c.leadMinSum / c.predicted : null,
    predictions: c.predictions,
    falsePredictionsPerDay: c.days > 0 ? c.falsePredictions / c.days : null,
    falsePredictionsPerStreamWeek: c.streamDays > 0 ? (7 * c.falsePredictions) / c.streamDays : null,
    predictingShare: c.rows ? c.predictingRows / c.rows : null,
    intervalCoverage95: c.bandPoints ? c.bandInside / c.bandPoints : null,
  };
}
