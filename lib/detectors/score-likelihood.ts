/**
 * Score likelihood: turns a stream's raw anomaly score into the evidence that its *recent* scores
 * are unusual for this stream, so one threshold means the same on a bursty disk counter (whose
 * raw score is often high) and on a smooth temperature (whose raw score is almost always 0).
 *
 * Per point (input a = raw score / 100, clamped to [0, 1]):
 *   short ← short + β·(a − short), β = 2 / (`shortWindow` + 1)   (≈ mean of the last ~10 scores)
 *   z = (short − m) / max(√v, `minStd`)                            (m, v: long-run mean, variance of short)
 *   evidence = −log10 Q(z), Q = standard normal upper tail          (0 when z ≤ 0)
 *   then m, v move toward short with weight max(1 / (n + `priorCount`), 1 / `longWindow`).
 * The long-run moments start from a prior (`priorMean`, `priorStd`) worth `priorCount` points,
 * so a new stream is neither deaf nor trigger-happy while its own history is short. The current
 * point is scored before it enters the long-run moments. Because the long-run moments include
 * every point, a stream whose raw score is routinely high (bursts) gets a wide band and needs a
 * rarer run of scores to alarm, and a sustained condition slowly becomes the norm.
 *
 * After Numenta's "anomaly likelihood" (S. Ahmad, A. Lavin, S. Purdy, Z. Agha, "Unsupervised
 * real-time anomaly detection for streaming data", Neurocomputing 262, 2017): a Gaussian model
 * of the recent mean of raw scores against their long-run distribution. Here the long-run
 * window is an exponential one (fixed-size state) instead of a sliding buffer.
 * Parameters: shortWindow (10), longWindow (2,000 points), minStd (0.03), priorMean (0.05),
 * priorStd (0.1), priorCount (50). Cost O(1), 4 doubles per stream.
 * Example: raw scores 0 for 1,000 points, then one point at 100: evidence ≈ 7.3 decades on that
 * point (short = 0.18 against m ≈ 0, σ = minStd), ≈ 5.8 on the next.
 */
import { BaseBank } from "./bank";
import { isRecord } from "./codec";

export interface ScoreLikelihoodParams {
  shortWindow: number;
  longWindow: number;
  minStd: number;
  priorMean: number;
  priorStd: number;
  priorCount: number;
  /** Point channel (one raw score against the long-run moments of raw scores): prior std; 0 = off. */
  pointPriorStd: number;
  /** Factor on the point channel's evidence. */
  pointWeight: number;
  /** Floor on the second channel's long-run standard deviation (0 = `minStd`). */
  secondMinStd: number;
  /** Onset shaping: evidence at or above this (decades) is an excursion (0 = off). */
  onsetEvidence: number;
  /** Points of an excursion scored in full before its evidence decays. */
  onsetHold: number;
  /** Per-point factor on the evidence after the hold. */
  onsetDecay: number;
  /** Evidence this many decades above the excursion's peak is a new onset. */
  onsetEscalate: number;
  /**
   * Points below the onset level before an excursion is over (0 = at once). The short window
   * still carries an excursion's last points, so a return above the level this soon is the
   * same excursion, not a new onset.
   */
  onsetCooldown: number;
}

export const DEFAULT_SCORE_LIKELIHOOD: ScoreLikelihoodParams = {
  shortWindow: 10,
  longWindow: 2000,
  minStd: 0.03,
  priorMean: 0.05,
  priorStd: 0.1,
  priorCount: 50,
  pointPriorStd: 0.2,
  pointWeight: 0.5,
  secondMinStd: 0,
  onsetEvidence: 0,
  onsetHold: 2,
  onsetDecay: 0.8,
  onsetEscalate: 1,
  onsetCooldown: 0,
};

const LN10 = Math.LN10;

/**
 * −log10 of the standard normal upper tail Q(z), accurate to ~1e-7 relative in Q and free of
 * underflow for large z (the log is formed directly); 0 for z ≤ 0 (no evidence). Chebyshev fit of erfc from Numerical
 * Recipes (W. H. Press et al., 2nd ed., §6.2).
 */
export function normalTailDecades(z: number): number {
  if (!(z > 0)) return 0;
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -x * x -
    1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  // Q(z) = erfc(x) / 2 = t·e^poly / 2
  return -(Math.log(0.5 * t) + poly) / LN10;
}

type Cols = "short" | "m" | "v" | "pm" | "pv" | "n" | "age" | "peak" | "s2" | "m2" | "v2" | "n2" | "qt";

export class ScoreLikelihoodBank extends BaseBank<Cols, ScoreLikelihoodParams> {
  static readonly KIND = "score-likelihood";
  static readonly VERSION = 1;
  readonly kind = ScoreLikelihoodBank.KIND;
  private declare readonly beta: number;
  private declare readonly minW: number;
  private declare readonly minVar: number;
  private declare readonly minVar2: number;
  /**
   * The last `update`'s evidence (decades) of its point channel (this raw score alone), before
   * onset shaping: whether the point itself is still unusual, where the short mean may only be
   * echoing an earlier point. Scratch, not state.
   */
  lastPointEvidence = 0;

  constructor(params: Partial<ScoreLikelihoodParams> = {}, cap = 4) {
    super({ ...DEFAULT_SCORE_LIKELIHOOD, ...params }, { short: 1, m: 1, v: 1, pm: 1, pv: 1, n: 1, age: 1, peak: 1, s2: 1, m2: 1, v2: 1, n2: 1, qt: 1 }, cap);
    this.beta = 2 / (this.params.shortWindow + 1);
    this.minW = 1 / this.params.longWindow;
    this.minVar = this.params.minStd * this.params.minStd;
    const m2 = this.params.secondMinStd > 0 ? this.params.secondMinStd : this.params.minStd;
    this.minVar2 = m2 * m2;
  }

  protected init(i: number): void {
    const c = this.soa.cols;
    c.m[i] = this.params.priorMean;
    c.v[i] = this.params.priorStd * this.params.priorStd;
    c.pm[i] = this.params.priorMean;
    c.pv[i] = this.params.pointPriorStd * this.params.pointPriorStd;
    c.m2[i] = this.params.priorMean;
    c.v2[i] = this.params.priorStd * this.params.priorStd;
  }

  /** The recent mean of raw scores after the last `update`. */
  short(i: number): number {
    return this.soa.cols.short[i]!;
  }

  /** Evidence (decades) of raw score a (0–1) without changing state. */
  score(i: number, a: number, _tMs?: number): number {
    if (a !== a) return 0;
    const c = this.soa.cols;
    const x = a > 1 ? 1 : a < 0 ? 0 : a;
    const sh = c.short[i]! + this.beta * (x - c.short[i]!);
    const ev = this.evidence(sh, c.m[i]!, c.v[i]!);
    const ep = this.params.pointPriorStd > 0 ? this.evidence(x, c.pm[i]!, c.pv[i]!) * this.params.pointWeight : 0;
    return ev > ep ? ev : ep;
  }

  /**
   * Scores raw score a (0–1), then learns it; returns the evidence in decades. `b` (0–1, NaN =
   * none yet) is a second raw score judged against its own short and long-run moments (the same
   * windows and prior, its own count); the evidence is the larger of the two channels'.
   * `routine` (NaN = none): a level the recent mean of raw scores routinely reaches at this time
   * of day; where it is above the long-run mean, the first channel is judged against it.
   */
  update(i: number, a: number, _tMs?: number, b = NaN, routine = NaN): number {
    this.lastPointEvidence = 0;
    if (a !== a) return 0;
    const c = this.soa.cols;
    const x = a > 1 ? 1 : a < 0 ? 0 : a;
    const sh = c.short[i]! + this.beta * (x - c.short[i]!);
    c.short[i] = sh;
    const m = c.m[i]!;
    const v = c.v[i]!;
    // this hour's routine (`SeasonBreakBank.routine`), where above the long-run mean, is the bar
    let ev = this.evidence(sh, routine > m ? routine : m, v);
    const n = c.n[i]! + 1;
    c.n[i] = n;
    const w0 = 1 / (n + this.params.priorCount);
    const w = w0 > this.minW ? w0 : this.minW;
    const d = sh - m;
    c.m[i] = m + w * d;
    c.v[i] = (1 - w) * (v + w * d * d);
    if (this.params.pointPriorStd > 0) {
      const pm = c.pm[i]!;
      const pv = c.pv[i]!;
      const ep = this.evidence(x, pm, pv) * this.params.pointWeight;
      this.lastPointEvidence = ep;
      if (ep > ev) ev = ep;
      const dp = x - pm;
      c.pm[i] = pm + w * dp;
      c.pv[i] = (1 - w) * (pv + w * dp * dp);
    }
    if (b === b) {
      const y = b > 1 ? 1 : b < 0 ? 0 : b;
      const s2 = c.s2[i]! + this.beta * (y - c.s2[i]!);
      c.s2[i] = s2;
      const m2 = c.m2[i]!;
      const v2 = c.v2[i]!;
      const e2 = this.evidence(s2, m2, v2 > this.minVar2 ? v2 : this.minVar2);
      if (e2 > ev) ev = e2;
      // the channel's own count: it may start later than the first (a learning phase)
      const n2 = c.n2[i]! + 1;
      c.n2[i] = n2;
      const u0 = 1 / (n2 + this.params.priorCount);
      const u = u0 > this.minW ? u0 : this.minW;
      const d2 = s2 - m2;
      c.m2[i] = m2 + u * d2;
      c.v2[i] = (1 - u) * (v2 + u * d2 * d2);
    }
    // below the onset bar with no excursion running, `onset` changes nothing and returns ev:
    // decided here, without the call (its double argument and result would be boxed)
    const p = this.params;
    if (!(p.onsetEvidence > 0 && ev >= p.onsetEvidence) && !(c.age[i]! > 0)) return ev;
    return this.onset(i, ev);
  }

  /**
   * An alarm is an onset: the first `onsetHold` points of an excursion keep their evidence, later
   * ones decay by `onsetDecay` per point while the excursion lasts (the condition is known by
   * then), unless the evidence escalates `onsetEscalate` decades above the excursion's peak.
   */
  private onset(i: number, ev: number): number {
    const p = this.params;
    const c = this.soa.cols;
    if (!(p.onsetEvidence > 0 && ev >= p.onsetEvidence)) {
      // the excursion ends after `onsetCooldown` quiet points; until then its age runs on
      const age = c.age[i]!;
      if (age > 0) {
        const q = c.qt[i]! + 1;
        if (q > p.onsetCooldown) {
          c.age[i] = 0;
          c.peak[i] = 0;
          c.qt[i] = 0;
        } else {
          c.qt[i] = q;
          c.age[i] = age + 1;
        }
      }
      return ev;
    }
    c.qt[i] = 0;
    const age = c.age[i]!;
    if (age === 0 || ev > c.peak[i]! + p.onsetEscalate) {
      c.age[i] = 1;
      c.peak[i] = ev;
      return ev;
    }
    c.age[i] = age + 1;
    if (ev > c.peak[i]!) c.peak[i] = ev;
    return age < p.onsetHold ? ev : ev * Math.pow(p.onsetDecay, age + 1 - p.onsetHold);
  }

  private evidence(sh: number, m: number, v: number): number {
    // z > 0 exactly when sh − m > 0 (the divisor is positive): most scores sit at or below their
    // mean and skip the square root and the division
    const d = sh - m;
    if (!(d > 0)) return 0;
    const z = d / Math.sqrt(v > this.minVar ? v : this.minVar);
    return z > 0 ? normalTailDecades(z) : 0;
  }

  static restore(state: unknown): ScoreLikelihoodBank {
    // states saved before the onset cool-down existed: no excursion is cooling down
    const upgraded = isRecord(state) && isRecord(state.cols) && !("qt" in state.cols) && typeof state.size === "number" ? { ...state, cols: { ...state.cols, qt: new Float64Array(state.size) } } : state;
    return BaseBank.restoreAs(upgraded, ScoreLikelihoodBank.KIND, ScoreLikelihoodBank.VERSION, DEFAULT_SCORE_LIKELIHOOD, (p) => new ScoreLikelihoodBank(p));
  }
}
