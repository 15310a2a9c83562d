/**
 * Level-shift detector: two-sided tabular CUSUM on the robust, de-seasonalised residual against a
 * slow reference level, self-calibrated against the stream's own history of CUSUM excursions.
 *
 * Paper: E. S. Page, "Continuous inspection schemes", Biometrika 41(1/2), 1954 (CUSUM);
 * robust (winsorised-input) CUSUM after D. M. Hawkins & D. H. Olwell, "Cumulative Sum Charts
 * and Charting for Quality Improvement", Springer 1998, ch. 6.
 *
 * Why: Holt-Winters and the robust z-score adapt their level within tens of points, so a subtle
 * persistent shift (+25 % at ~2–4σ) is absorbed before it is ever "rare" point by point. A slow
 * reference level m (EWMA, α = `alpha`, Huber-clipped) keeps the pre-shift normal for hundreds of
 * points; the CUSUM accumulates the evidence.
 *
 * Per point (input d = value minus the Holt-Winters seasonal component, so daily swings are not
 * mistaken for shifts): z = clip((d − m)/σ, ±`zCap`) (one spike cannot carry the sum);
 * S⁺ ← max(0, S⁺ + z − k), S⁻ ← max(0, S⁻ − z − k); S = max(S⁺, S⁻). The alarm threshold is
 * max(h, `ratio` × Ŝ) where Ŝ is a slowly decaying maximum of completed CUSUM excursions outside alarms (the stream's own
 * routine excursions, e.g. from autocorrelated noise or an imperfect season), so noisy streams
 * raise their own bar. While alarming, m and σ are frozen; an alarm lasting `adoptAfterMs` adopts
 * the new level (m ← recent mean, S ← 0), so a permanent change stops alarming.
 * Returns S / threshold when alarming (≥ 1), else 0.
 *
 * Parameters: alpha (0.005), k (0.75), h (30), zCap (4), ratio (2), memory (20,000 points for
 * Ŝ), adoptAfterMs (2 h), warmMs (1 day of history before alarms). Cost O(1), 10 doubles/stream.
 * Example: N(0,1) noise for 2 days at 1-min steps, then +3σ: alarm after ~13 points (S ≥ 30).
 */
import { BaseBank } from "./bank";

export interface ShiftCusumParams {
  alpha: number;
  k: number;
  h: number;
  zCap: number;
  ratio: number;
  memory: number;
  adoptAfterMs: number;
  warmMs: number;
  relScale: number;
}

export const DEFAULT_SHIFT_CUSUM: ShiftCusumParams = {
  alpha: 0.005,
  k: 0.75,
  h: 30,
  zCap: 4,
  ratio: 2,
  memory: 20_000,
  adoptAfterMs: 2 * 3_600_000,
  warmMs: 86_400_000,
  relScale: 1e-3,
};

type Cols = "m" | "s" | "n" | "cp" | "cn" | "smax" | "t0" | "alarmT" | "recent" | "per" | "peak";

export class ShiftCusumBank extends BaseBank<Cols, ShiftCusumParams> {
  static readonly KIND = "shift-cusum";
  static readonly VERSION = 1;
  readonly kind = ShiftCusumBank.KIND;
  private declare readonly decay: number;

  constructor(params: Partial<ShiftCusumParams> = {}, cap = 4) {
    super({ ...DEFAULT_SHIFT_CUSUM, ...params }, { m: 1, s: 1, n: 1, cp: 1, cn: 1, smax: 1, t0: 1, alarmT: 1, recent: 1, per: 1, peak: 1 }, cap);
    this.decay = 1 - 1 / this.params.memory;
  }

  protected init(i: number): void {
    this.soa.cols.alarmT[i] = NaN;
  }

  /** Current CUSUM statistic max(S⁺, S⁻) (pure). */
  statistic(i: number): number {
    const c = this.soa.cols;
    return c.cp[i]! > c.cn[i]! ? c.cp[i]! : c.cn[i]!;
  }

  /** Alarm strength the next update would report for d (state untouched: recomputes on a copy). */
  score(i: number, d: number, tMs: number, period = this.soa.cols.per[i]!): number {
    if (d !== d) return 0;
    const c = this.soa.cols;
    const cols = [c.m, c.s, c.n, c.cp, c.cn, c.smax, c.t0, c.alarmT, c.recent, c.per, c.peak];
    const keep = cols.map((a) => a[i]!);
    const r = this.update(i, d, tMs, period);
    cols.forEach((a, k) => (a[i] = keep[k]!));
    return r;
  }

  /**
   * `period`: the seasonal period (ms) used to de-seasonalise d (0 = none). When it changes, the
   * input changes meaning: the reference, the CUSUM and its history restart (re-warm).
   */
  update(i: number, d: number, tMs: number, period = 0): number {
    if (d !== d) return 0;
    const c = this.soa.cols;
    const p = this.params;
    if (period !== c.per[i]!) {
      c.per[i] = period;
      c.n[i] = 0;
      c.cp[i] = 0;
      c.cn[i] = 0;
      c.smax[i] = 0;
      c.peak[i] = 0;
      c.alarmT[i] = NaN;
    }
    const n = c.n[i]!;
    if (n === 0) {
      c.m[i] = d;
      c.recent[i] = d;
      c.s[i] = 0;
      c.t0[i] = tMs;
      c.n[i] = 1;
      return 0;
    }
    const m = c.m[i]!;
    let s = 1.2533 * c.s[i]!;
    const floor = p.relScale * Math.abs(m) + 1e-12;
    if (s < floor) s = floor;
    const r = d - m;
    let z = r / s;
    if (z > p.zCap) z = p.zCap;
    else if (z < -p.zCap) z = -p.zCap;
    let cp = c.cp[i]! + z - p.k;
    let cn = c.cn[i]! - z - p.k;
    if (cp < 0) cp = 0;
    if (cn < 0) cn = 0;
    const S = cp > cn ? cp : cn;
    const smax = c.smax[i]!;
    const lim = p.ratio * smax > p.h ? p.ratio * smax : p.h;
    c.recent[i] = c.recent[i]! + 0.1 * (d - c.recent[i]!);
    c.n[i] = n + 1;
    const warm = tMs - c.t0[i]! >= p.warmMs && n >= 100;
    if (warm && S >= lim) {
      const at = c.alarmT[i]!;
      if (at !== at) c.alarmT[i] = tMs;
      else if (tMs - at >= p.adoptAfterMs) {
        // persistent: adopt the new level
        c.m[i] = c.recent[i]!;
        c.cp[i] = 0;
        c.cn[i] = 0;
        c.alarmT[i] = NaN;
        return 0;
      }
      c.cp[i] = cp;
      c.cn[i] = cn;
      return S / lim;
    }
    c.alarmT[i] = NaN;
    c.cp[i] = cp;
    c.cn[i] = cn;
    // learn (Huber-clipped) only outside alarms; warm-up uses the plain running mean / MAD
    const a = 1 / (n + 1) > p.alpha ? 1 / (n + 1) : p.alpha;
    const lim3 = 3 * s;
    const rc = n < 30 ? r : r > lim3 ? lim3 : r < -lim3 ? -lim3 : r;
    c.m[i] = m + a * rc;
    c.s[i] = c.s[i]! + a * ((rc < 0 ? -rc : rc) - c.s[i]!);
    // Ŝ learns completed excursions only (a growing one must not raise its own bar)
    if (S > c.peak[i]!) c.peak[i] = S;
    let kept = smax * this.decay;
    if (S === 0 && c.peak[i]! > 0) {
      if (c.peak[i]! > kept) kept = c.peak[i]!;
      c.peak[i] = 0;
    }
    c.smax[i] = kept;
    return 0;
  }

  static restore(state: unknown): ShiftCusumBank {
    return BaseBank.restoreAs(state, ShiftCusumBank.KIND, ShiftCusumBank.VERSION, DEFAULT_SHIFT_CUSUM, (p) => new ShiftCusumBank(p));
  }
}
