/**
 * Quantile filter for event counts: online estimates of the 1st, 50th and 99th percentiles by
 * stochastic approximation, score = distance from the median in units of the median→tail gap.
 *
 * Papers: H. Robbins & S. Monro, "A stochastic approximation method", 1951 (q ← q + η(τ − 1[x<q]));
 * Q. Ma, S. Muthukrishnan & M. Sandler, "Frugal streaming for estimating quantiles", 2013;
 * scale-adaptive steps after C. Chen, D. Lambert & J. Pinheiro, "Incremental quantile estimation
 * for massive tracking", KDD 2000.
 *
 * Update: q_τ ← q_τ + η·s·(τ − 1[x < q_τ]) with s = EWMA|x − q50| (floored), so steps follow the
 * data's spread. Score: x ≥ q50 → 2.33·(x − q50)/(q99 − q50); x < q50 → 2.33·(q50 − x)/(q50 − q01)
 * (the 2.33 makes "at the 99th percentile" read like z = 2.33, comparable with the z-scores).
 * Parameters: eta (0.05), minScale (0.5 — event counts are integers, so a gap below one event is
 * not a spread). Warm-up: the first 20 points use running min/mean/max. Cost O(1), 6 doubles.
 */
import { BaseBank } from "./bank";
import type { StreamBank } from "./types";

export interface QuantileFilterParams {
  eta: number;
  minScale: number;
  scaleAlpha: number;
}

export const DEFAULT_QUANTILE_FILTER: QuantileFilterParams = { eta: 0.05, minScale: 0.5, scaleAlpha: 0.02 };

type Cols = "lo" | "med" | "hi" | "s" | "n";

export class QuantileFilterBank extends BaseBank<Cols, QuantileFilterParams> implements StreamBank {
  static readonly KIND = "quantile-filter";
  static readonly VERSION = 1;
  readonly kind = QuantileFilterBank.KIND;

  constructor(params: Partial<QuantileFilterParams> = {}, cap = 4) {
    super({ ...DEFAULT_QUANTILE_FILTER, ...params }, { lo: 1, med: 1, hi: 1, s: 1, n: 1 }, cap);
  }

  protected init(_i: number): void {}

  score(i: number, x: number, _tMs?: number): number {
    const c = this.soa.cols;
    if (x !== x || c.n[i]! === 0) return 0;
    const med = c.med[i]!;
    const fl = this.params.minScale;
    if (x >= med) {
      const g = c.hi[i]! - med;
      return (2.33 * (x - med)) / (g > fl ? g : fl);
    }
    const g = med - c.lo[i]!;
    return (2.33 * (med - x)) / (g > fl ? g : fl);
  }

  update(i: number, x: number, tMs?: number): number {
    if (x !== x) return 0;
    const sc = this.score(i, x, tMs ?? 0);
    const c = this.soa.cols;
    const p = this.params;
    const n = c.n[i]!;
    if (n < 20) {
      this.warm(i, x, n);
      return sc;
    }
    let s = c.s[i]!;
    if (s < p.minScale) s = p.minScale;
    const step = p.eta * s;
    const med = c.med[i]!;
    c.med[i] = med + step * (x < med ? -0.5 : 0.5);
    const lo = c.lo[i]!;
    c.lo[i] = lo + step * (x < lo ? -0.99 : 0.01);
    const hi = c.hi[i]!;
    c.hi[i] = hi + step * (x < hi ? -0.01 : 0.99);
    c.s[i] = c.s[i]! + p.scaleAlpha * (Math.abs(x - med) - c.s[i]!);
    c.n[i] = n + 1;
    return sc;
  }

  /**
   * The first 20 points: range, running mean and mean deviation. Apart from `update` so that
   * its per-point code stays small enough for the optimiser to inline into the engine's loop.
   */
  private warm(i: number, x: number, n: number): void {
    const c = this.soa.cols;
    c.lo[i] = n === 0 ? x : Math.min(c.lo[i]!, x);
    c.hi[i] = n === 0 ? x : Math.max(c.hi[i]!, x);
    c.med[i] = n === 0 ? x : c.med[i]! + (x - c.med[i]!) / (n + 1);
    c.s[i] = n === 0 ? 0 : c.s[i]! + (Math.abs(x - c.med[i]!) - c.s[i]!) / (n + 1);
    c.n[i] = n + 1;
  }

  static restore(state: unknown): QuantileFilterBank {
    return BaseBank.restoreAs(state, QuantileFilterBank.KIND, QuantileFilterBank.VERSION, DEFAULT_QUANTILE_FILTER, (p) => new QuantileFilterBank(p));
  }
}
