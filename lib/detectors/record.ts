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
 * Measured on nab-dev (docs/detection.md): windows found at score ≥ 60 22 → 29 of 36.
 * Cost O(1), 6 doubles per stream.
 */
import { BaseBank, readBankState } from "./bank";

export interface RecordParams {
  minRatio: number;
  /** A record must also lie this many mean absolute deviations from the median (on a smooth,
   * near-Gaussian stream the largest deviation after a few hundred points is only ~3σ). */
  minDev: number;
  minObs: number;
  rate: number;
  halfLifeMs: number;
}

export const DEFAULT_RECORD: RecordParams = { minRatio: 1.2, minDev: 4, minObs: 300, rate: 0.01, halfLifeMs: 30 * 86_400_000 };

type Cols = "med" | "mad" | "up" | "down" | "n" | "lastT";

export class RecordBank extends BaseBank<Cols, RecordParams> {
  static readonly KIND = "record";
  static readonly VERSION = 1;
  readonly kind = RecordBank.KIND;

  private readonly decayPerMs: number;

  constructor(params: Partial<RecordParams> = {}, cap = 4) {
    super({ ...DEFAULT_RECORD, ...params }, { med: 1, mad: 1, up: 1, down: 1, n: 1, lastT: 1 }, cap);
    this.decayPerMs = -Math.LN2 / this.params.halfLifeMs;
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
    return dt > 0 ? Math.exp(dt * this.decayPerMs) : 1;
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

  static restore(state: unknown): RecordBank {
    const s = readBankState(state, RecordBank.KIND, RecordBank.VERSION);
    const b = new RecordBank(s.params as Partial<RecordParams>);
    b.loadState(s);
    return b;
  }
}
