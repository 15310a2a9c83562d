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
 * Reference rate: λ = max(ℓ + season, floor). The caller passes the seasonal part of the
 * expected count (Holt-Winters' seasonal component, so the daily cycle is in λ) and a floor (the
 * engine: the robust recent level; and Holt-Winters' whole forecast while no season is learnt,
 * since only the forecaster's level then follows the daily ramp). ℓ is the bank's own slow
 * (memory `levelMemoryMs` in time, so any step and irregular sampling), Huber-clipped EWMA of the de-seasonalised count: a forecaster adapts to a
 * rate rise within minutes (Holt-Winters absorbs ~25 % of each residual per point), long before
 * a moderate rise (×2) has accumulated evidence; ℓ still holds the normal rate an hour later.
 * An alarm lasting `adoptAfterMs` adopts the new rate (ℓ ← a fast EWMA, S ← 0), so a lasting
 * change stops alarming within the engine's adaptation time.
 * Only streams that look like small counts
 * score: every value so far a non-negative integer, ≥ `minObs` values, slow mean ≤ `maxMean`
 * (larger counts are near-Gaussian; the z-score detectors handle them). One point's input is
 * capped at `stepCap` × h, so a single burst row (a retry loop) cannot alarm alone: at least
 * ⌈1/stepCap⌉ consecutive elevated points are needed. φ (floor 1) is an EWMA of the winsorised
 * squared Pearson residual (x − λ)²/λ, learnt outside alarms.
 * Returns S / h when S ≥ h (≥ 1 = alarm), else 0.
 *
 * Parameters: rho (2: detects a rate doubling or more), h (8 nats), stepCap (0.34), ceil (2h),
 * maxMean (30), minObs (60), minRate (0.05: λ floor), dispAlpha (0.005), dispCap (25),
 * levelMemoryMs (200 min), adoptAfterMs (30 min; the engine passes adaptWithinMs).
 * Warm-up: ℓ is the running mean for the first 100 points. Cost O(1), 9 doubles per stream.
 * Example: λ = 2.4/step, the rate quadruples → LLR ≈ 4.3 per step, alarm at the 3rd step; under
 * the in-control rate the expected LLR is −0.31·λ per step (the CUSUM stays near 0).
 */
import { BaseBank, readBankState } from "./bank";
import { encodeF64, getNumber, getObject, peekVersion, readParams } from "./codec";

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
  levelMemoryMs: number;
  adoptAfterMs: number;
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
  levelMemoryMs: 200 * 60_000,
  adoptAfterMs: 30 * 60_000,
};

type Cols = "n" | "bad" | "mean" | "phi" | "s" | "lvl" | "fast" | "alarmT" | "lastT";

export class CountCusumBank extends BaseBank<Cols, CountCusumParams> {
  static readonly KIND = "count-cusum";
  /** 2: own slow reference level (lvl, fast, alarmT); 3: its memory in time (lastT). Older
   * states restore with what they lack unset (re-learnt from the next points). */
  static readonly VERSION = 3;
  readonly kind = CountCusumBank.KIND;
  private declare readonly lnRho: number;

  constructor(params: Partial<CountCusumParams> = {}, cap = 4) {
    super({ ...DEFAULT_COUNT_CUSUM, ...params }, { n: 1, bad: 1, mean: 1, phi: 1, s: 1, lvl: 1, fast: 1, alarmT: 1, lastT: 1 }, cap);
    this.lnRho = Math.log(this.params.rho);
  }

  protected init(i: number): void {
    const c = this.soa.cols;
    c.phi[i] = 1;
    c.lvl[i] = NaN;
    c.fast[i] = NaN;
    c.alarmT[i] = NaN;
  }

  /** True when stream i currently qualifies as a small-count stream. */
  isCount(i: number): boolean {
    const c = this.soa.cols;
    return c.bad[i] === 0 && c.n[i]! >= this.params.minObs && c.mean[i]! <= this.params.maxMean;
  }

  /** Reference level ℓ of the de-seasonalised count (NaN before the first count). */
  level(i: number): number {
    return this.soa.cols.lvl[i]!;
  }

  /** Current CUSUM statistic (nats, already divided by the dispersion). */
  statistic(i: number): number {
    return this.soa.cols.s[i]!;
  }

  /** Alarm strength the next update would report (state untouched). */
  score(i: number, x: number, tMs: number, season = 0, floor = 0): number {
    const c = this.soa.cols;
    const cols = [c.n, c.bad, c.mean, c.phi, c.s, c.lvl, c.fast, c.alarmT, c.lastT];
    const keep = cols.map((a) => a[i]!);
    const r = this.update(i, x, tMs, season, floor);
    cols.forEach((a, k) => (a[i] = keep[k]!));
    return r;
  }

  /**
   * `season`: the expected seasonal part of the count at this step (Holt-Winters' seasonal
   * component, 0 = none); `floor`: a lower bound for the expected count (the engine passes the
   * robust recent level, so a season dented by yesterday's incident cannot make normal counts
   * look like a burst). The reference rate is λ = max(ℓ + season, floor), ℓ a slow
   * (`levelMemoryMs`) Huber-clipped EWMA of the de-seasonalised count: unlike a forecaster that
   * follows the data within minutes, it still holds the normal rate while a burst builds up.
   * An alarm lasting `adoptAfterMs` adopts the new rate (ℓ ← the fast EWMA, S ← 0).
   */
  update(i: number, x: number, tMs: number, season = 0, floor = 0): number {
    if (x !== x) return 0;
    const c = this.soa.cols;
    const p = this.params;
    const n = c.n[i]!;
    if (x < 0 || x !== Math.floor(x)) c.bad[i] = c.bad[i]! + 1;
    // slow mean (≈ 1 day at 1-minute steps; the running mean while n is small)
    const a = n < 1000 ? 1 / (n + 1) : 0.001;
    c.mean[i] = c.mean[i]! + a * (x - c.mean[i]!);
    c.n[i] = n + 1;
    if (c.bad[i] !== 0) {
      c.s[i] = 0;
      return 0;
    }
    const d = x - season;
    let lvl = c.lvl[i]!;
    const dt = tMs - c.lastT[i]!;
    c.lastT[i] = tMs;
    if (lvl !== lvl) {
      c.lvl[i] = d;
      c.fast[i] = d;
      return 0;
    }
    let ref = lvl + season;
    if (floor > ref) ref = floor;
    const lam = ref > p.minRate ? ref : p.minRate;
    const phi = c.phi[i]!;
    let llr = (x * this.lnRho - lam * (p.rho - 1)) / phi;
    const cap = p.stepCap * p.h;
    if (llr > cap) llr = cap;
    const s0 = c.s[i]!;
    let s = s0 + llr;
    if (s < 0) s = 0;
    else if (s > p.ceil) s = p.ceil;
    c.s[i] = s;
    c.fast[i] = c.fast[i]! + 0.1 * (d - c.fast[i]!);
    // the reference learns slowly and clipped (a burst barely moves it within the hour)
    // memory in time, not points (≈ `levelMemoryMs` whatever the step; irregular steps count
    // by their length); the running mean while n is small
    let la = dt > 0 ? dt / p.levelMemoryMs : 0;
    if (la > 0.5) la = 0.5;
    if (n < 100 && 1 / (n + 1) > la) la = 1 / (n + 1);
    const lim = 3 * Math.sqrt(phi * (lam > 1 ? lam : 1));
    const r = d - lvl;
    lvl += la * (r > lim ? lim : r < -lim ? -lim : r);
    c.lvl[i] = lvl;
    const counting = n + 1 >= p.minObs && c.mean[i]! <= p.maxMean;
    if (counting && s >= p.h) {
      const at = c.alarmT[i]!;
      if (at !== at) c.alarmT[i] = tMs;
      else if (tMs - at >= p.adoptAfterMs) {
        // a lasting new rate is the new normal
        c.lvl[i] = c.fast[i]!;
        c.s[i] = 0;
        c.alarmT[i] = NaN;
        return 0;
      }
      return s / p.h;
    }
    c.alarmT[i] = NaN;
    // dispersion learns outside alarms (winsorised Pearson residual²)
    let q = ((x - lam) * (x - lam)) / lam;
    if (q > p.dispCap) q = p.dispCap;
    const da = n < 200 ? 1 / (n + 1) : p.dispAlpha;
    let nphi = phi + da * (q - phi);
    if (nphi < 1) nphi = 1;
    c.phi[i] = nphi;
    return 0;
  }

  static restore(state: unknown): CountCusumBank {
    const ver = peekVersion(state);
    const old = ver === 1 || ver === 2 ? ver : 0;
    const s = readBankState(state, CountCusumBank.KIND, old || CountCusumBank.VERSION);
    // (older states' `levelAlpha` is not a parameter any more: readParams leaves it out)
    const b = new CountCusumBank(readParams(s, DEFAULT_COUNT_CUSUM));
    if (old) {
      const n = getNumber(s, "size");
      const nan = encodeF64(new Float64Array(n).fill(NaN));
      const cols = { ...getObject(s, "cols") };
      for (const k of ["lvl", "fast", "alarmT", "lastT"]) if (cols[k] === undefined) cols[k] = nan;
      b.loadState({ ...s, params: b.params, cols });
    } else b.loadState(s);
    return b;
  }
}
