/**
 * Online autoregressive forecaster fitted by recursive least squares (SNARIMAX-like, without the
 * seasonal/exogenous terms, which Holt-Winters covers).
 *
 * Papers: S. Haykin, "Adaptive Filter Theory", ch. 10 (exponentially weighted RLS); O. Anava,
 * E. Hazan, S. Mannor & O. Shamir, "Online learning for time series prediction", COLT 2013
 * (online ARMA via AR(p) approximation); River's `time_series.SNARIMAX` for the framing.
 *
 * Model: y_t = x_t − μ (μ = slow EWMA, `muAlpha`), ŷ_t = wᵀ[y_{t−1} … y_{t−p}] / σ_y scaling.
 * RLS with forgetting λ: k = Pφ/(λ + φᵀPφ); w += k·e; P = (P − kφᵀP)/λ (P re-initialised if
 * its trace explodes). Forecast = μ + ŷ, interval = forecast ± z·σ_e where σ_e = 1.2533·EWMA|e|.
 * Missing points are imputed with the forecast so the lag vector keeps moving. Robust filtering
 * (Gelper, Fried & Croux 2010; Masreliez 1975): a point more than `cleanK` σ_e from its forecast
 * enters the lags clipped to forecast ± cleanK·σ_e, so an isolated outlier leaves no echo in the
 * next forecasts (without it the point after a 30σ spike scored ≈ 20σ, which doubled the spike
 * in the stream's history of extremes); a real level change still reaches the lags within a few
 * points (cleanK σ per point) and AR keeps flagging it meanwhile.
 * Score = |x − forecast| / σ_e (σ_e floored).
 *
 * Parameters: order p (3, fixed at compile time of the layout), lambda (0.995), delta (10: initial
 * P = δI), muAlpha (0.01), scaleAlpha (0.02), huberK (4), cleanK (5). Warm-up: ~p·10 points before the weights
 * settle; μ needs ~1/muAlpha points. Cost: O(p²) = 9 multiply-adds per point; p² + 2p + 5 doubles
 * per stream.
 */
import { BaseBank } from "./bank";
import type { ForecastingBank } from "./types";

export interface ArRlsParams {
  lambda: number;
  delta: number;
  muAlpha: number;
  scaleAlpha: number;
  huberK: number;
  /** Lags hold the value clipped to forecast ± cleanK·σ_e (0 = raw value). */
  cleanK: number;
  minScale: number;
  relScale: number;
}

export const DEFAULT_AR_RLS: ArRlsParams = {
  lambda: 0.995,
  delta: 10,
  muAlpha: 0.01,
  scaleAlpha: 0.02,
  huberK: 4,
  cleanK: 5,
  minScale: 1e-9,
  relScale: 1e-3,
};

/** AR order. */
export const AR_P = 3;

type Cols = "mu" | "sy" | "d" | "n" | "lag" | "w" | "P";

export class ArRlsBank extends BaseBank<Cols, ArRlsParams> implements ForecastingBank {
  static readonly KIND = "ar-rls";
  static readonly VERSION = 1;
  readonly kind = ArRlsBank.KIND;

  /** 1 / λ, as the per-point update used to compute it */
  private declare readonly invLambda: number;

  constructor(params: Partial<ArRlsParams> = {}, cap = 4) {
    super({ ...DEFAULT_AR_RLS, ...params }, { mu: 1, sy: 1, d: 1, n: 1, lag: AR_P, w: AR_P, P: AR_P * AR_P }, cap);
    this.invLambda = 1 / this.params.lambda;
  }

  protected init(i: number): void {
    const P = this.soa.cols.P;
    const o = i * AR_P * AR_P;
    for (let j = 0; j < AR_P; j++) P[o + j * AR_P + j] = this.params.delta;
  }

  expected(i: number, _tMs?: number): number {
    const c = this.soa.cols;
    if (c.n[i]! === 0) return NaN;
    const sy = c.sy[i]! > 0 ? c.sy[i]! : 1;
    const o = i * AR_P;
    let y = 0;
    for (let j = 0; j < AR_P; j++) y += c.w[o + j]! * (c.lag[o + j]! / sy);
    if (y > 8) y = 8;
    else if (y < -8) y = -8;
    else if (y !== y) y = 0;
    return c.mu[i]! + y * sy;
  }

  scale(i: number): number {
    const c = this.soa.cols;
    const p = this.params;
    const s = 1.2533 * c.d[i]!;
    const floor = Math.max(p.minScale, p.relScale * Math.abs(c.mu[i]!));
    return s > floor ? s : floor;
  }

  score(i: number, x: number, _tMs?: number): number {
    if (x !== x || this.soa.cols.n[i]! === 0) return 0;
    return Math.abs(x - this.expected(i)) / this.scale(i);
  }

  update(i: number, x: number, _tMs?: number): number {
    const c = this.soa.cols;
    const n = c.n[i]!;
    if (n === 0) return this.first(i, x);
    const p = this.params;
    // (each value read once into a local and each written once: the optimiser does not
    // eliminate the re-reads across the stores in between)
    const o = i * AR_P;
    const lag = c.lag;
    const wv = c.w;
    const mu = c.mu[i]!;
    const sy0 = c.sy[i]!;
    const sy = sy0 > 0 ? sy0 : 1;
    const lag0 = lag[o]!;
    const lag1 = lag[o + 1]!;
    const lag2 = lag[o + 2]!;
    const l0 = lag0 / sy;
    const l1 = lag1 / sy;
    const l2 = lag2 / sy;
    const w0 = wv[o]!;
    const w1 = wv[o + 1]!;
    const w2 = wv[o + 2]!;
    let yhat = w0 * l0 + w1 * l1 + w2 * l2;
    // guard against a diverging fit: the forecast stays within ±8 deviations of the mean
    if (yhat > 8) yhat = 8;
    else if (yhat < -8) yhat = -8;
    else if (yhat !== yhat) yhat = 0;
    const fc = mu + yhat * sy;
    if (x !== x) {
      // impute: shift lags with the forecast
      lag[o + 2] = lag1;
      lag[o + 1] = lag0;
      lag[o] = fc - mu;
      return 0;
    }
    const d = c.d[i]!;
    let s = 1.2533 * d;
    const floor = Math.max(p.minScale, p.relScale * Math.abs(mu));
    if (s < floor) s = floor;
    const r = x - fc;
    const z = Math.abs(r) / s;
    // clipped error in normalised units
    let e = r;
    const lim = p.huberK * s;
    if (n >= 10 && (e > lim || e < -lim)) e = e > 0 ? lim : -lim;
    const en = e / sy;
    // RLS update
    const Po = i * AR_P * AR_P;
    const P = c.P;
    const p00 = P[Po]!, p01 = P[Po + 1]!, p02 = P[Po + 2]!;
    const p10 = P[Po + 3]!, p11 = P[Po + 4]!, p12 = P[Po + 5]!;
    const p20 = P[Po + 6]!, p21 = P[Po + 7]!, p22 = P[Po + 8]!;
    const g0 = p00 * l0 + p01 * l1 + p02 * l2;
    const g1 = p10 * l0 + p11 * l1 + p12 * l2;
    const g2 = p20 * l0 + p21 * l1 + p22 * l2;
    const den = p.lambda + l0 * g0 + l1 * g1 + l2 * g2;
    const k0 = g0 / den;
    const k1 = g1 / den;
    const k2 = g2 / den;
    const nw0 = w0 + k0 * en;
    const nw1 = w1 + k1 * en;
    const nw2 = w2 + k2 * en;
    wv[o] = nw0;
    wv[o + 1] = nw1;
    wv[o + 2] = nw2;
    // φᵀP row vector (P symmetric → equals g)
    const il = this.invLambda;
    const q00 = (p00 - k0 * g0) * il;
    const q11 = (p11 - k1 * g1) * il;
    const q22 = (p22 - k2 * g2) * il;
    P[Po] = q00;
    P[Po + 1] = (p01 - k0 * g1) * il;
    P[Po + 2] = (p02 - k0 * g2) * il;
    P[Po + 3] = (p10 - k1 * g0) * il;
    P[Po + 4] = q11;
    P[Po + 5] = (p12 - k1 * g2) * il;
    P[Po + 6] = (p20 - k2 * g0) * il;
    P[Po + 7] = (p21 - k2 * g1) * il;
    P[Po + 8] = q22;
    const tr = q00 + q11 + q22;
    const wn = Math.abs(nw0) + Math.abs(nw1) + Math.abs(nw2);
    if (!(tr < 30 * p.delta) || !(wn < 3)) {
      // covariance wind-up (flat input) or an explosive fit: restart the estimator
      if (!(wn < 3)) wv.fill(0, o, o + AR_P);
      P.fill(0, Po, Po + 9);
      P[Po] = P[Po + 4] = P[Po + 8] = p.delta;
    }
    // slow mean, deviation scale, error scale
    const a = 1 / (n + 1) > p.muAlpha ? 1 / (n + 1) : p.muAlpha;
    const dev = x - mu;
    const nmu = mu + a * dev;
    c.mu[i] = nmu;
    const sa = 1 / (n + 1) > p.scaleAlpha ? 1 / (n + 1) : p.scaleAlpha;
    c.sy[i] = sy0 + sa * (Math.abs(dev) - sy0);
    const ad = n < 10 ? Math.abs(r) : Math.abs(e);
    c.d[i] = d + sa * (ad - d);
    lag[o + 2] = lag1;
    lag[o + 1] = lag0;
    const ck = p.cleanK * s;
    lag[o] = (p.cleanK > 0 && n >= 10 && (r > ck || r < -ck) ? fc + (r > 0 ? ck : -ck) : x) - nmu;
    c.n[i] = n + 1;
    return z;
  }

  /** A stream's first point (NaN: nothing): the mean starts at it. */
  private first(i: number, x: number): number {
    if (x !== x) return 0;
    const c = this.soa.cols;
    c.mu[i] = x;
    c.n[i] = 1;
    return 0;
  }

  static restore(state: unknown): ArRlsBank {
    return BaseBank.restoreAs(state, ArRlsBank.KIND, ArRlsBank.VERSION, DEFAULT_AR_RLS, (p) => new ArRlsBank(p));
  }
}
