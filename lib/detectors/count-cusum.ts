/**
 * Count-rate detector: a Poisson likelihood-ratio CUSUM for streams of small event counts
 * (failures, errors, retries per step), with a quasi-Poisson dispersion correction.
 *
 * Papers: J. M. Lucas, "Counted data CUSUM's", Technometrics 27(2), 1985 (Poisson CUSUM);
 * E. S. Page, "Continuous inspection schemes", Biometrika 41, 1954; quasi-likelihood for
 * over-dispersed counts after P. McCullagh & J. A. Nelder, "Generalized Linear Models", 2nd ed.,
 * 1989, §9 (the log-likelihood ratio divided by the dispersion φ = Var/mean).
 *
 * Why: a sparse count (1–3 failures a minute, many zeros) that quadruples for an hour moves each
 * point by only ~3σ, so the z-score detectors, calibrated on the stream's heavy-tailed history
 * (one user retrying in a loop gives 20 failures in a minute), see a string of unremarkable
 * points. The Poisson log-likelihood ratio of "rate ×ρ" against the expected rate λ accumulates
 * that evidence: LLR(x) = x·ln ρ − λ(ρ − 1), S ← min(ceil, max(0, S + LLR/φ)).
 *
 * Per point the caller passes λ, the expected count at this step (Holt-Winters' forecast, so the
 * daily cycle is in it), before the point is learnt. Only streams that look like small counts
 * score: every value so far a non-negative integer, ≥ `minObs` values, slow mean ≤ `maxMean`
 * (larger counts are near-Gaussian; the z-score detectors handle them). One point's input is
 * capped at `stepCap` × h, so a single burst row (a retry loop) cannot alarm alone: at least
 * ⌈1/stepCap⌉ consecutive elevated points are needed. φ (floor 1) is an EWMA of the winsorised
 * squared Pearson residual (x − λ)²/λ, learnt outside alarms.
 * Returns S / h when S ≥ h (≥ 1 = alarm), else 0.
 *
 * Parameters: rho (2: detects a rate doubling or more), h (8 nats), stepCap (0.34), ceil (2h),
 * maxMean (30), minObs (60), minRate (0.05: λ floor), dispAlpha (0.005), dispCap (25).
 * Cost O(1), 6 doubles per stream.
 * Example: λ = 2.4/step, the rate quadruples → LLR ≈ 4.3 per step, alarm at the 3rd step; under
 * the in-control rate the expected LLR is −0.31·λ per step (the CUSUM stays near 0).
 */
import { BaseBank, readBankState } from "./bank";

export interface CountCusumParams {
  rho: number;
  h: number;
  stepCap: number;
  ceil: number;
  maxMean: number;
  minObs: number;
  minRate: number;
  dispAlpha: number;
  dispCap: number;
}

export const DEFAULT_COUNT_CUSUM: CountCusumParams = {
  rho: 2,
  h: 8,
  stepCap: 0.34,
  ceil: 16,
  maxMean: 30,
  minObs: 60,
  minRate: 0.05,
  dispAlpha: 0.005,
  dispCap: 25,
};

type Cols = "n" | "bad" | "mean" | "phi" | "s";

export class CountCusumBank extends BaseBank<Cols, CountCusumParams> {
  static readonly KIND = "count-cusum";
  static readonly VERSION = 1;
  readonly kind = CountCusumBank.KIND;
  private readonly lnRho: number;

  constructor(params: Partial<CountCusumParams> = {}, cap = 4) {
    super({ ...DEFAULT_COUNT_CUSUM, ...params }, { n: 1, bad: 1, mean: 1, phi: 1, s: 1 }, cap);
    this.lnRho = Math.log(this.params.rho);
  }

  protected init(i: number): void {
    this.soa.cols.phi[i] = 1;
  }

  /** True when stream i currently qualifies as a small-count stream. */
  isCount(i: number): boolean {
    const c = this.soa.cols;
    return c.bad[i] === 0 && c.n[i]! >= this.params.minObs && c.mean[i]! <= this.params.maxMean;
  }

  /** Current CUSUM statistic (nats, already divided by the dispersion). */
  statistic(i: number): number {
    return this.soa.cols.s[i]!;
  }

  /** Alarm strength the next update would report (state untouched). */
  score(i: number, x: number, _tMs: number, lambda = NaN): number {
    const c = this.soa.cols;
    const keep = [c.n[i]!, c.bad[i]!, c.mean[i]!, c.phi[i]!, c.s[i]!];
    const r = this.update(i, x, _tMs, lambda);
    c.n[i] = keep[0]!;
    c.bad[i] = keep[1]!;
    c.mean[i] = keep[2]!;
    c.phi[i] = keep[3]!;
    c.s[i] = keep[4]!;
    return r;
  }

  /** `lambda`: the expected count at this step before x is seen (NaN = unknown: learn only). */
  update(i: number, x: number, _tMs: number, lambda = NaN): number {
    if (x !== x) return 0;
    const c = this.soa.cols;
    const p = this.params;
    const n = c.n[i]!;
    if (x < 0 || x !== Math.floor(x)) c.bad[i] = c.bad[i]! + 1;
    // slow mean (≈ 1 day at 1-minute steps; the running mean while n is small)
    const a = n < 1000 ? 1 / (n + 1) : 0.001;
    c.mean[i] = c.mean[i]! + a * (x - c.mean[i]!);
    c.n[i] = n + 1;
    if (c.bad[i] !== 0 || lambda !== lambda) {
      c.s[i] = 0;
      return 0;
    }
    const lam = lambda > p.minRate ? lambda : p.minRate;
    const phi = c.phi[i]!;
    let llr = (x * this.lnRho - lam * (p.rho - 1)) / phi;
    const cap = p.stepCap * p.h;
    if (llr > cap) llr = cap;
    let s = c.s[i]! + llr;
    if (s < 0) s = 0;
    else if (s > p.ceil) s = p.ceil;
    c.s[i] = s;
    const counting = n + 1 >= p.minObs && c.mean[i]! <= p.maxMean;
    if (counting && s >= p.h) return s / p.h;
    // dispersion learns outside alarms (winsorised Pearson residual²)
    const d = x - lam;
    let q = (d * d) / lam;
    if (q > p.dispCap) q = p.dispCap;
    const da = n < 200 ? 1 / (n + 1) : p.dispAlpha;
    let nphi = phi + da * (q - phi);
    if (nphi < 1) nphi = 1;
    c.phi[i] = nphi;
    return 0;
  }

  static restore(state: unknown): CountCusumBank {
    const s = readBankState(state, CountCusumBank.KIND, CountCusumBank.VERSION);
    const b = new CountCusumBank(s.params as Partial<CountCusumParams>);
    b.loadState(s);
    return b;
  }
}
