/**
 * Record detector: a value that beats the stream's largest deviation so far, by a margin.
 *
 * Residual detectors and their calibrators saturate on bursty, heavy-tailed streams: once a
 * disk-write counter has shown a hundred bursts, a burst twice as tall as any of them reads as
 * "one more burst" (its tail probability is no smaller). What an operator notices is that it is
 * the tallest the stream has ever been. Per stream and side (up, down): the deviation of x from
 * a slow running median, against the largest deviation seen on that side, which is forgotten
 * slowly (half-life `halfLifeMs` of data time) so that months-old extremes stop shielding today.
 * Returns the ratio deviation / record when it is ≥ `minRatio` and the deviation is ≥ `minDev`
 * mean absolute deviations (else 0), once the stream has `minObs` observations; the record then
 * moves up to the new value.
 *
 * The median is a stochastic approximation (step `rate` × a running mean absolute deviation),
 * so a burst barely moves it and a level shift reaches it over a few hundred points.
 * Cf. the "magnitude relative to the history of extremes" of Siffer et al., SPOT (KDD 2017), and
 * record statistics: for exchangeable data a new maximum arrives with probability 1/n, and one
 * `minRatio` above the old maximum far more rarely still.
 *
 * Recurrence, the other side of the same history (`minHits` > 0): a spike within `nearFrac` of
 * its side's record that arrives as the `minHits`-th such excursion (counts forgotten like the
 * records) and not sooner than `gapFrac` of their mean spacing is one the stream has shown
 * before at its usual rate; `recurrent()` says so for the excursion's first `maxRun` points
 * (the engine keeps such a spike below the low severity). A new record, a run of near-records
 * closer together than usual (more spikes than usual is news) or a lasting excursion is not.
 *
 * Quiet: the engine feeds every point's final score to `noteScore`, which
 * keeps a peak decaying by half every `quietHalfLife` points; `quietPeak` is that peak before the
 * point. A record on a stream whose peak is low (nothing scored much for about a day) is a new
 * extreme after calm, and the engine opens an anomaly on it at once (`recordOpenQuiet`); a
 * heavy-tailed stream's blips keep its peak up, so its records still wait for a second point.
 *
 * Measured on nab-dev (docs/detection.md): windows found at score ≥ 60 22 → 29 of 36.
 * Cost O(1), 15 doubles per stream.
 */
import { BaseBank } from "./bank";
import { isRecord } from "./codec";

export interface RecordParams {
  minRatio: number;
  /** A record must also lie this many mean absolute deviations from the median (on a smooth,
   * near-Gaussian stream the largest deviation after a few hundred points is only ~3σ). */
  minDev: number;
  minObs: number;
  rate: number;
  halfLifeMs: number;
  /** Recurrence: a deviation within `nearFrac` of the side's record is a near-record; an
   * excursion that starts as the `minHits`-th (decayed) near-record on that side is recurrent
   * for its first `maxRun` points. 0 = off. */
  minHits: number;
  nearFrac: number;
  maxRun: number;
  /** An excursion closer to the previous near-record than this share of their mean spacing is
   * a rise in their rate (more spikes than usual), never recurrent. */
  gapFrac: number;
  /** Points over which the quiet peak of the stream's scores halves (see `quietPeak`). */
  quietHalfLife: number;
}

export const DEFAULT_RECORD: RecordParams = { minRatio: 1.2, minDev: 4, minObs: 300, rate: 0.01, halfLifeMs: 30 * 86_400_000, minHits: 0, nearFrac: 0.7, maxRun: 2, gapFrac: 0.5, quietHalfLife: 288 };

type Cols = "med" | "mad" | "up" | "down" | "n" | "lastT" | "upHits" | "downHits" | "run" | "exHits" | "upT" | "downT" | "upGap" | "downGap" | "quiet";

export class RecordBank extends BaseBank<Cols, RecordParams> {
  static readonly KIND = "record";
  /** 2: the recurrence columns; 3: the quiet peak. */
  static readonly VERSION = 3;
  readonly kind = RecordBank.KIND;

  private declare readonly decayPerMs: number;
  private declare readonly quietKeep: number;
  /** The last step length `keep` computed (ms) and its share (a cache, not state). */
  private keepDt = Number.NaN;
  private keepShare = Number.NaN;

  constructor(params: Partial<RecordParams> = {}, cap = 4) {
    super({ ...DEFAULT_RECORD, ...params }, { med: 1, mad: 1, up: 1, down: 1, n: 1, lastT: 1, upHits: 1, downHits: 1, run: 1, exHits: 1, upT: 1, downT: 1, upGap: 1, downGap: 1, quiet: 1 }, cap);
    this.decayPerMs = -Math.LN2 / this.params.halfLifeMs;
    this.quietKeep = Math.pow(2, -1 / this.params.quietHalfLife);
  }

  protected init(_i: number): void {}

  /** The record ratio of x (≥ minRatio) or 0, without learning it. */
  score(i: number, x: number, tMs: number): number {
    if (x !== x) return 0;
    return this.judge(i, x - this.soa.cols.med[i]!, this.keep(i, tMs));
  }

  private judge(i: number, dev: number, keep: number): number {
    const c = this.soa.cols;
    const p = this.params;
    if (c.n[i]! < p.minObs) return 0;
    const rec = (dev > 0 ? c.up[i]! : c.down[i]!) * keep;
    const d = dev > 0 ? dev : -dev;
    if (!(rec > 0) || d < p.minRatio * rec || d < p.minDev * c.mad[i]!) return 0;
    return d / rec;
  }

  /** Share of the records kept at tMs (exp, not pow: this runs per point). */
  private keep(i: number, tMs: number): number {
    const dt = tMs - this.soa.cols.lastT[i]!;
    if (!(dt > 0)) return 1;
    // streams on one schedule share their step: the last step's share is reused, not recomputed
    if (dt === this.keepDt) return this.keepShare;
    const k = Math.exp(dt * this.decayPerMs);
    this.keepDt = dt;
    this.keepShare = k;
    return k;
  }

  update(i: number, x: number, tMs: number): number {
    if (x !== x) return 0;
    const c = this.soa.cols;
    const p = this.params;
    const n = c.n[i]!;
    if (n === 0) {
      c.med[i] = x;
      c.mad[i] = 0;
      c.n[i] = 1;
      c.lastT[i] = tMs;
      return 0;
    }
    const keep = this.keep(i, tMs);
    const med = c.med[i]!;
    const dev = x - med;
    const out = this.judge(i, dev, keep);
    let up = c.up[i]! * keep;
    let down = c.down[i]! * keep;
    if (p.minHits > 0) this.trackRecurrence(i, dev, up, down, keep, tMs);
    if (dev > up) up = dev;
    if (-dev > down) down = -dev;
    c.up[i] = up;
    c.down[i] = down;
    const ad = dev > 0 ? dev : -dev;
    const mad = n === 1 ? ad : c.mad[i]! + p.rate * (ad - c.mad[i]!);
    c.mad[i] = mad;
    c.med[i] = med + (dev > 0 ? 1 : dev < 0 ? -1 : 0) * p.rate * mad;
    c.n[i] = n + 1;
    if (tMs > c.lastT[i]!) c.lastT[i] = tMs;
    return out;
  }

  /** The stream's quiet peak before the point being scored: the largest score, decayed (see `noteScore`). */
  quietPeak(i: number): number {
    return this.soa.cols.quiet[i]!;
  }

  /** Folds a point's final score into the stream's quiet peak. */
  noteScore(i: number, score: number): void {
    const c = this.soa.cols.quiet;
    const kept = c[i]! * this.quietKeep;
    c[i] = score > kept ? score : kept;
  }

  /** Whether the point just learnt is a recurrent near-record (see `minHits`). */
  recurrent(i: number): boolean {
    const c = this.soa.cols;
    const r = c.run[i]!;
    const k = r > 0 ? r : -r;
    // (the count decays between spikes: three a day apart count 2.9, which is "three")
    return this.params.minHits > 0 && k > 0 && k <= this.params.maxRun && Math.round(c.exHits[i]!) >= this.params.minHits;
  }

  private trackRecurrence(i: number, dev: number, up: number, down: number, keep: number, tMs: number): void {
    const c = this.soa.cols;
    const p = this.params;
    c.upHits[i] = c.upHits[i]! * keep;
    c.downHits[i] = c.downHits[i]! * keep;
    const d = dev > 0 ? dev : -dev;
    const rec = dev > 0 ? up : down;
    const near = c.n[i]! >= p.minObs && rec > 0 && d >= p.nearFrac * rec && d >= p.minDev * c.mad[i]!;
    const r = c.run[i]!;
    if (!near) {
      c.run[i] = 0;
      return;
    }
    const sg = dev > 0 ? 1 : -1;
    if (r * sg > 0) {
      c.run[i] = r + sg;
      return;
    }
    c.run[i] = sg;
    const hits = dev > 0 ? c.upHits : c.downHits;
    const lastT = dev > 0 ? c.upT : c.downT;
    const gapMean = dev > 0 ? c.upGap : c.downGap;
    const h = hits[i]!;
    const gap = tMs - lastT[i]!;
    // a spike sooner than usual after the last one is a rise in their rate: not recurrent
    // (and a new record is news however many near-records came before)
    c.exHits[i] = h >= 1 && gap >= p.gapFrac * gapMean[i]! && d < p.minRatio * rec ? h : 0;
    if (h >= 1) gapMean[i] = h < 2 ? gap : gapMean[i]! + 0.3 * (gap - gapMean[i]!);
    lastT[i] = tMs;
    hits[i] = h + 1;
  }

  /** `params` override the saved ones (the engine's options decide whether recurrence is on: a
   * version-1 state saved none). */
  static restore(state: unknown, params: Partial<RecordParams> = {}): RecordBank {
    return BaseBank.restoreAs(upgradeV2(upgradeV1(state)), RecordBank.KIND, RecordBank.VERSION, DEFAULT_RECORD, (p) => new RecordBank({ ...p, ...params }));
  }
}

const RECURRENCE_COLS = ["upHits", "downHits", "run", "exHits", "upT", "downT", "upGap", "downGap"] as const;

/** A version-1 state (before recurrence) with empty recurrence columns: it learns them afresh. */
function upgradeV1(state: unknown): unknown {
  if (!isRecord(state) || state.version !== 1 || typeof state.size !== "number" || !isRecord(state.cols)) return state;
  const cols: Record<string, unknown> = { ...state.cols };
  for (const k of RECURRENCE_COLS) cols[k] = new Float64Array(state.size);
  return { ...state, version: 2, cols };
}

/** A version-2 state (before the quiet peak): the peak starts at 0, as on a stream that was quiet. */
function upgradeV2(state: unknown): unknown {
  if (!isRecord(state) || state.version !== 2 || typeof state.size !== "number" || !isRecord(state.cols)) return state;
  return { ...state, version: 3, cols: { ...state.cols, quiet: new Float64Array(state.size) } };
}
