/**
 * Robust z-score: EWMA location and EWMA mean-absolute-deviation scale with Huber-clipped
 * updates, i.e. robust exponential smoothing.
 *
 * Paper: T. Cipra, "Robust exponential smoothing", J. Forecasting 11(1), 1992 (Huber M-estimate
 * inside exponential smoothing); P. J. Huber, "Robust estimation of a location parameter", 1964.
 *
 * Per point: r = x − m; s = max(1.2533·d, floor); score = |r| / s. Learning clips r to ±k·s
 * before m += α·r_c and d += α·(|r_c| − d), so a spike barely moves the baseline. 1.2533 = √(π/2)
 * turns a mean absolute deviation into a Gaussian σ.
 *
 * Parameters: `alpha` (0.02 ≈ 50-point memory), `huberK` (3), `minScale` (absolute scale floor),
 * `relScale` (scale floor relative to |m|, 1e-3). Warm-up: α is max(alpha, 1/(n+1)) so the first
 * points give the plain running mean / MAD; about 1/alpha points until fully adaptive.
 * Level shifts: after `adaptAfter` consecutive same-sign clipped residuals the location jumps by
 * the run's mean residual (a persistent new regime is adopted instead of flagged forever).
 * Cost: O(1) time and 5 doubles per stream.
 *
 * Example: feeding 0,1,0,1,… then 10 gives score(10) ≈ 15 (MAD of 0.5·1.25 → σ ≈ 0.63).
 */
import { adaptRun, BaseBank } from "./bank";
import type { ForecastingBank } from "./types";

export interface RobustZParams {
  alpha: number;
  huberK: number;
  minScale: number;
  relScale: number;
  adaptAfter: number;
}

export const DEFAULT_ROBUST_Z: RobustZParams = {
  alpha: 0.02,
  huberK: 3,
  minScale: 1e-9,
  relScale: 1e-3,
  adaptAfter: 30,
};

type Cols = "m" | "d" | "n" | "run" | "runN" | "runSum";

export class RobustZBank extends BaseBank<Cols, RobustZParams> implements ForecastingBank {
  static readonly KIND = "robust-z";
  static readonly VERSION = 1;
  readonly kind = RobustZBank.KIND;

  constructor(params: Partial<RobustZParams> = {}, cap = 4) {
    super({ ...DEFAULT_ROBUST_Z, ...params }, { m: 1, d: 1, n: 1, run: 1, runN: 1, runSum: 1 }, cap);
  }

  protected init(_i: number): void {}

  expected(i: number, _tMs?: number): number {
    return this.soa.cols.n[i]! > 0 ? this.soa.cols.m[i]! : NaN;
  }

  scale(i: number): number {
    const c = this.soa.cols;
    const m = c.m[i]!;
    const p = this.params;
    const s = 1.2533 * c.d[i]!;
    const floor = Math.max(p.minScale, p.relScale * Math.abs(m));
    return s > floor ? s : floor;
  }

  score(i: number, x: number, _tMs?: number): number {
    if (x !== x) return 0;
    const c = this.soa.cols;
    if (c.n[i]! === 0) return 0;
    return Math.abs(x - c.m[i]!) / this.scale(i);
  }

  update(i: number, x: number, _tMs?: number): number {
    if (x !== x) return 0;
    const c = this.soa.cols;
    const p = this.params;
    const n = c.n[i]!;
    if (n === 0) return this.first(i, x);
    const m = c.m[i]!;
    const d = c.d[i]!;
    let s = 1.2533 * d;
    const floor = Math.max(p.minScale, p.relScale * Math.abs(m));
    if (s < floor) s = floor;
    const r = x - m;
    const z = Math.abs(r) / s;
    const a = 1 / (n + 1) > p.alpha ? 1 / (n + 1) : p.alpha;
    const lim = p.huberK * s;
    let rc = r;
    if (n >= 8) {
      const shift = adaptRun(c.run, c.runN, c.runSum, i, r, r > lim || r < -lim, p.adaptAfter);
      if (shift !== 0) {
        c.m[i] = m + shift;
        c.n[i] = n + 1;
        return z;
      }
      if (r > lim || r < -lim) rc = r > 0 ? lim : -lim;
    }
    c.m[i] = m + a * rc;
    // during warm-up use the unclipped deviation so the scale is not stuck at the floor
    const ad = n < 8 ? Math.abs(r) : Math.abs(rc);
    c.d[i] = d + a * (ad - d);
    c.n[i] = n + 1;
    return z;
  }

  /**
   * A stream's first point: the mean starts at it (score 0). Apart from `update` so that its
   * per-point code stays small enough for the optimiser to inline into the engine's loop (an
   * inlined update takes and returns its doubles unboxed).
   */
  private first(i: number, x: number): number {
    const c = this.soa.cols;
    c.m[i] = x;
    c.d[i] = 0;
    c.n[i] = 1;
    return 0;
  }

  static restore(state: unknown): RobustZBank {
    return BaseBank.restoreAs(state, RobustZBank.KIND, RobustZBank.VERSION, DEFAULT_ROBUST_Z, (p) => new RobustZBank(p));
  }
}
