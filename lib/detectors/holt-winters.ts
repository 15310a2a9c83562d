/**
 * Holt-Winters (additive, damped trend) with the seasonal period detected from the data.
 *
 * Papers: C. C. Holt, "Forecasting seasonals and trends by exponentially weighted moving
 * averages", 1957 (repr. IJF 2004); P. R. Winters, "Forecasting sales by exponentially weighted
 * moving averages", Management Science 6(3), 1960; E. S. Gardner & E. McKenzie, "Forecasting
 * trends in time series" (damped trend), Management Science 31(10), 1985; robust updates after
 * S. Gelper, R. Fried & C. Croux, "Robust forecasting with exponential and Holt-Winters
 * smoothing", J. Forecasting 29(3), 2010 (Huber-clipped one-step errors).
 *
 * Model (error-correction form, e = x − ŷ clipped to ±huberK·σ):
 *   ŷ = ℓ + φb + S(phase(t)) ;  ℓ ← ℓ + φb + α·e ;  b ← φb + αβ·e ;  S(phase) ← S + γ(1−α)·e
 * S is a ring of `seasonBins` values over one period, read and updated with linear interpolation
 * between the two nearest bins (so a 1-minute daily series uses 288 five-minute bins).
 * σ = 1.2533 · EWMA|e| with a floor; score = |x − ŷ| / σ.
 *
 * The period is detected from the data by autocorrelation (`season-detect.ts`); on adoption S
 * starts from the binned mean profile and the level is re-centred.
 *
 * Parameters: alpha (0.1), beta (0.02), phi (0.98), gamma (0.2), huberK (3.5), scaleAlpha (0.02),
 * adaptAfter (30 points) / adaptWithinMs (30 min) for adopting a persistent level shift, and
 * revertWithinMs (2 h): a return to the level held before the adopted shift undoes it at once
 * (regime memory), so the end of a long excursion does not read as a second anomaly.
 * Warm-up: level = running mean for the first 1/alpha points, trend learnt after 10 points,
 * season after 2 full cycles of the candidate period (e.g. 2 days for daily).
 * Cost: O(1) per point (plus O(detectBins·detectCycles) once per candidate cycle);
 * memory seasonBins + 3·detectBins·detectCycles doubles per stream.
 */
import { adaptRun, BaseBank, readBankState } from "./bank";
import { encodeF64, getNumber, getObject, peekVersion, readParams } from "./codec";
import { CANDIDATES as NC, SeasonDetector, seasonRingLength, type SeasonCol, type SeasonParams } from "./season-detect";
import type { ForecastingBank } from "./types";

export interface HoltWintersParams extends SeasonParams {
  alpha: number;
  beta: number;
  phi: number;
  gamma: number;
  huberK: number;
  /** Clip (in σ) of the residual the season learns from (the level uses huberK). */
  seasonClipK: number;
  scaleAlpha: number;
  minScale: number;
  relScale: number;
  adaptAfter: number;
  adaptWithinMs: number;
  /** After adopting a level shift, a return to the previous level within this long undoes it. */
  revertWithinMs: number;
  /** Bins of the time-of-day residual-scale profile (0 = one global scale). */
  scaleBins: number;
  /** Share of the way each profile bin moves toward its observed scale per day of data. */
  scaleDayRate: number;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const WEEK_MS = 604_800_000;

export const DEFAULT_HOLT_WINTERS: HoltWintersParams = {
  alpha: 0.1,
  beta: 0.02,
  phi: 0.98,
  gamma: 0.2,
  huberK: 3.5,
  seasonClipK: 6,
  scaleAlpha: 0.02,
  minScale: 1e-9,
  relScale: 1e-3,
  adaptAfter: 30,
  adaptWithinMs: 30 * 60_000,
  revertWithinMs: 2 * 3_600_000,
  seasonBins: 288,
  fineBins: 12,
  detectBins: 48,
  detectCycles: 4,
  candidates: [HOUR_MS, DAY_MS, WEEK_MS],
  acfMin: 0.4,
  acfMargin: 0.25,
  multipleMargin: 0.05,
  scaleBins: 48,
  scaleDayRate: 0.4,
};

type Cols =
  | SeasonCol
  | "l"
  | "b"
  | "d"
  | "n"
  | "run"
  | "runN"
  | "runSum"
  | "rho"
  | "dSlow"
  | "rBin"
  | "rFrom"
  | "rNext"
  | "rInv"
  | "rAccE"
  | "rAccN"
  | "pShift"
  | "pShiftT";

const INV_DAY = 1 / DAY_MS;

/**
 * Phase in [0, 1) of tMs within period P: (tMs mod P) / P. For tMs ≥ 0 the remainder comes from
 * one division and an exact integer product (no fmod call; bit-identical to `%` because both are
 * exact), negative times take the `%` path.
 */
export function phaseOf(tMs: number, P: number): number {
  if (tMs >= 0) {
    let r = tMs - Math.floor(tMs / P) * P;
    if (r < 0) r += P;
    else if (r >= P) r -= P;
    return r / P;
  }
  const ph = (tMs % P) / P;
  return ph < 0 ? ph + 1 : ph;
}

export class HoltWintersBank extends BaseBank<Cols, HoltWintersParams> implements ForecastingBank {
  static readonly KIND = "holt-winters";
  /**
   * 2: per-candidate detection bins (`fineBins`); version-1 states restore with fineBins = detectBins.
   * 3: time-of-day scale profile. 4: the last adopted level shift (`pShift`, `pShiftT`).
   */
  static readonly VERSION = 4;
  readonly kind = HoltWintersBank.KIND;
  private readonly seasons: SeasonDetector;
  /**
   * Per stream: start (ms) of the seasonal cycle holding the last learnt point, so that most
   * points get their phase from one subtraction instead of `phaseOf`'s floor and division. A pure
   * cache (NaN = unknown, refilled on the next miss): never serialised, reset with the period.
   */
  private cycStart = new Float64Array(4).fill(NaN);

  constructor(params: Partial<HoltWintersParams> = {}, cap = 4) {
    const p = { ...DEFAULT_HOLT_WINTERS, ...params };
    const ringLen = seasonRingLength(p);
    super(
      p,
      {
        l: 1,
        b: 1,
        d: 1,
        n: 1,
        lastT: 1,
        dt: 1,
        run: 1,
        runN: 1,
        runSum: 1,
        period: 1,
        sb: 1,
        strength: 1,
        season: p.seasonBins,
        ring: NC * ringLen,
        accSum: NC,
        accN: NC,
        curBin: NC,
        pushed: NC,
        bSum: 1,
        bN: 1,
        bBin: 1,
        bNext: 1,
        rho: Math.max(1, p.scaleBins),
        dSlow: 1,
        rBin: 1,
        rFrom: 1,
        rNext: 1,
        rInv: 1,
        rAccE: 1,
        rAccN: 1,
        pShift: 1,
        pShiftT: 1,
      },
      cap,
    );
    this.seasons = new SeasonDetector(this.params, (i, tMs, mean) => this.recentre(i, tMs, mean));
  }

  /** Grows the (unserialised) cycle-start cache to hold n streams. */
  private sizeCache(n: number): void {
    if (n <= this.cycStart.length) return;
    let cap = this.cycStart.length;
    while (cap < n) cap *= 2;
    const a = new Float64Array(cap).fill(NaN);
    a.set(this.cycStart);
    this.cycStart = a;
  }

  override reserve(n: number): void {
    super.reserve(n);
    this.sizeCache(n);
  }

  protected override loadState(s: Record<string, unknown>): void {
    super.loadState(s);
    this.sizeCache(this.n);
    this.cycStart.fill(NaN);
  }

  protected init(i: number): void {
    this.sizeCache(i + 1);
    this.cycStart[i] = NaN;
    const c = this.soa.cols;
    this.seasons.init(c, i);
    const R = this.params.scaleBins;
    if (R > 0) c.rho.fill(1, i * R, i * R + R);
  }

  /**
   * Time-of-day factor of the residual scale at tMs (1 = the stream's average): noise that grows
   * with the daily load (multiplicative noise) gets a wide band at peak and a narrow one at night,
   * so a daytime level at 3 a.m. is many sigmas out while peak-hour jitter is not. The profile is
   * pinned to mean ≈ 1 by a one-day mean |e| and used once the stream samples each bin at
   * least twice (nearest bin, no interpolation: one read per point).
   */
  scaleFactor(i: number, tMs: number): number {
    const R = this.params.scaleBins;
    const c = this.soa.cols;
    const dt = c.dt[i]!;
    if (R === 0 || !(dt > 0) || dt * 2 * R > DAY_MS) return 1;
    if (tMs >= c.rFrom[i]! && tMs < c.rNext[i]!) return c.rho[c.rBin[i]!]!;
    const j = Math.floor(phaseOf(tMs, DAY_MS) * R);
    return c.rho[i * R + (j < R ? j : R - 1)]!;
  }

  /**
   * Enters the profile bin holding tMs (cached bounds: most points cost two comparisons and no
   * division). Leaving a bin applies its accumulated mean |e| once: the one-day mean |e| moves
   * by the bin's share of a day and the bin's factor by `scaleDayRate` toward meanE / that mean.
   */
  private enterProfileBin(i: number, tMs: number, R: number, dt: number): number {
    const c = this.soa.cols;
    const cnt = c.rAccN[i]!;
    if (cnt > 0) {
      const me = c.rAccE[i]! / cnt;
      const ds = c.dSlow[i]!;
      let a = cnt * dt * INV_DAY;
      if (a > 1) a = 1;
      c.dSlow[i] = ds > 0 ? ds + a * (me - ds) : me;
      if (ds > 0) {
        const slot = c.rBin[i]!;
        const q = me / ds;
        let k = this.params.scaleDayRate * R * a;
        if (k > 1) k = 1;
        c.rho[slot] = c.rho[slot]! + k * ((q > 8 ? 8 : q) - c.rho[slot]!);
      }
      c.rAccE[i] = 0;
      c.rAccN[i] = 0;
    }
    const w = DAY_MS / R;
    const day = Math.floor(tMs / DAY_MS) * DAY_MS;
    let j = Math.floor((tMs - day) / w);
    if (j >= R) j = R - 1;
    else if (j < 0) j = 0;
    const slot = i * R + j;
    c.rBin[i] = slot;
    c.rFrom[i] = day + j * w;
    c.rNext[i] = j === R - 1 ? day + DAY_MS : day + (j + 1) * w;
    c.rInv[i] = 1 / c.rho[slot]!;
    return slot;
  }

  protected override reindexGathered(cols: Record<Cols, Float64Array>, slots: ArrayLike<number>): void {
    // rBin is an absolute index into rho (slot · scaleBins + bin): re-point it at the new slot
    const R = this.params.scaleBins;
    if (R <= 0) return;
    for (let j = 0; j < slots.length; j++) if (cols.rNext[j]! > 0) cols.rBin[j] = cols.rBin[j]! - (slots[j]! - j) * R;
  }

  protected override reindexCopied(from: number, to: number): void {
    const R = this.params.scaleBins;
    const c = this.soa.cols;
    if (R > 0 && c.rNext[to]! > 0) c.rBin[to] = c.rBin[to]! + (to - from) * R;
  }

  override remove(i: number): void {
    const last = this.n - 1;
    super.remove(i);
    this.cycStart[i] = this.cycStart[last]!;
    this.cycStart[last] = NaN;
    // rBin is an absolute index into rho: re-point the moved stream's open profile bin at its
    // new slot (it pointed at the vacated one: its next profile update landed there)
    const R = this.params.scaleBins;
    const c = this.soa.cols;
    if (i !== last && R > 0 && c.rNext[i]! > 0) c.rBin[i] = c.rBin[i]! - (last - i) * R;
  }

  /** Detected period in ms for stream i (0 = none yet). */
  period(i: number): number {
    return this.soa.cols.period[i]!;
  }

  /** Estimated sampling interval in ms for stream i (0 = unknown). */
  interval(i: number): number {
    return this.soa.cols.dt[i]!;
  }

  /** Seasonal component at tMs for stream i (0 while no period is detected). */
  seasonal(i: number, tMs: number): number {
    return this.seasonAt(i, tMs);
  }

  private seasonAt(i: number, tMs: number): number {
    const c = this.soa.cols;
    const P = c.period[i]!;
    if (P <= 0) return 0;
    const sb = c.sb[i]!;
    // within the cycle `update` cached, the phase is one subtraction (the same remainder, exact)
    const cs = this.cycStart[i]!;
    const pos = (tMs >= cs && tMs - cs < P ? (tMs - cs) / P : phaseOf(tMs, P)) * sb - 0.5;
    const f = Math.floor(pos);
    const w = pos - f;
    const j0 = f < 0 ? sb - 1 : f;
    const j1 = j0 + 1 >= sb ? 0 : j0 + 1;
    const o = i * this.params.seasonBins;
    return (1 - w) * c.season[o + j0]! + w * c.season[o + j1]!;
  }

  expected(i: number, tMs: number): number {
    const c = this.soa.cols;
    if (c.n[i]! === 0) return NaN;
    return c.l[i]! + this.params.phi * c.b[i]! + this.seasonAt(i, tMs);
  }

  /** `expected` without its seasonal term (NaN before the first point): `expected` = this + `seasonal`. */
  levelForecast(i: number): number {
    const c = this.soa.cols;
    if (c.n[i]! === 0) return NaN;
    return c.l[i]! + this.params.phi * c.b[i]!;
  }

  /** h-step-ahead forecast (h ≥ 1) at time tMs of that step. */
  forecastAt(i: number, h: number, tMs: number): number {
    const c = this.soa.cols;
    if (c.n[i]! === 0) return NaN;
    const phi = this.params.phi;
    // Σ_{k=1..h} φ^k
    const damp = phi === 1 ? h : (phi * (1 - Math.pow(phi, h))) / (1 - phi);
    return c.l[i]! + damp * c.b[i]! + this.seasonAt(i, tMs);
  }

  /** Residual scale (≈ 1σ) of stream i; with tMs, at that time of day (see `scaleFactor`). */
  scale(i: number, tMs?: number): number {
    const c = this.soa.cols;
    const p = this.params;
    const s = 1.2533 * c.d[i]! * (tMs === undefined ? 1 : this.scaleFactor(i, tMs));
    const floor = Math.max(p.minScale, p.relScale * Math.abs(c.l[i]!));
    return s > floor ? s : floor;
  }

  score(i: number, x: number, tMs: number): number {
    if (x !== x || this.soa.cols.n[i]! === 0) return 0;
    return Math.abs(x - this.expected(i, tMs)) / this.scale(i, tMs);
  }

  update(i: number, x: number, tMs: number): number {
    const c = this.soa.cols;
    const p = this.params;
    if (x !== x) return 0;
    const n = c.n[i]!;
    // sampling interval (EWMA of positive deltas)
    const lastT = c.lastT[i]!;
    if (n > 0) {
      const dd = tMs - lastT;
      if (dd > 0) {
        const dt = c.dt[i]!;
        c.dt[i] = dt === 0 ? dd : dt + 0.05 * (Math.min(dd, 3 * dt) - dt);
      }
    }
    c.lastT[i] = tMs;
    // period detection: most points only add to the open base bin
    if (tMs < c.bNext[i]!) {
      c.bSum[i] = c.bSum[i]! + x;
      c.bN[i] = c.bN[i]! + 1;
    } else this.seasons.detect(c, i, x, tMs);
    if (n === 0) {
      c.l[i] = x;
      c.n[i] = 1;
      return 0;
    }
    const l = c.l[i]!;
    const b = c.b[i]!;
    const phi = p.phi;
    // seasonal read and (below) learn share one phase computation
    const P = c.period[i]!;
    let j0 = 0;
    let j1 = 0;
    let w = 0;
    let sv = 0;
    const so = i * p.seasonBins;
    if (P > 0) {
      const sb = c.sb[i]!;
      // phase = (tMs mod P) / P as in phaseOf (bit-identical: the remainder is exact either
      // way); within the cached cycle it is one subtraction
      const cs = this.cycStart[i]!;
      let rem: number;
      if (tMs >= cs && tMs - cs < P) rem = tMs - cs;
      else if (tMs >= 0) {
        rem = tMs - Math.floor(tMs / P) * P;
        if (rem < 0) rem += P;
        else if (rem >= P) rem -= P;
        this.cycStart[i] = tMs - rem;
      } else rem = phaseOf(tMs, P) * P;
      const pos = (tMs >= 0 ? rem / P : phaseOf(tMs, P)) * sb - 0.5;
      const f = Math.floor(pos);
      w = pos - f;
      j0 = f < 0 ? sb - 1 : f;
      j1 = j0 + 1 >= sb ? 0 : j0 + 1;
      sv = (1 - w) * c.season[so + j0]! + w * c.season[so + j1]!;
    }
    const yhat = l + phi * b + sv;
    const r = x - yhat;
    // time-of-day scale profile: factor at this phase (bins j0s/j1s, weight ws)
    const R = p.scaleBins;
    const dtS = c.dt[i]!;
    let rf = 1;
    let rInv = 1;
    const useRho = R > 0 && dtS > 0 && dtS * 2 * R <= DAY_MS;
    if (useRho) {
      if (!(tMs >= c.rFrom[i]! && tMs < c.rNext[i]!)) this.enterProfileBin(i, tMs, R, dtS);
      rf = c.rho[c.rBin[i]!]!;
      rInv = c.rInv[i]!;
    }
    let s = 1.2533 * c.d[i]! * rf;
    const fl = p.relScale * (l < 0 ? -l : l);
    const floor = fl > p.minScale ? fl : p.minScale;
    if (s < floor) s = floor;
    const z = Math.abs(r) / s;
    let a = p.alpha;
    // (warm-up: the running mean's 1/(n+1) while it is larger; compared without a division)
    if (a * (n + 1) < 1) a = 1 / (n + 1);
    let e = r;
    const lim = p.huberK * s;
    if (n >= 10) {
      const exceed = r > lim || r < -lim;
      // regime memory: a point far from the adopted level but within reach of the level before
      // it ends the excursion (e.g. an incident longer than adaptWithinMs that then recovers):
      // the level goes back at once instead of the recovery reading as a new anomaly
      const ps = c.pShift[i]!;
      if (ps !== 0) {
        if (tMs - c.pShiftT[i]! > p.revertWithinMs) c.pShift[i] = 0;
        else if (exceed && Math.abs(r + ps) <= lim) {
          c.l[i] = l + phi * b - ps;
          c.b[i] = 0;
          c.pShift[i] = 0;
          c.run[i] = 0;
          c.runN[i] = 0;
          c.runSum[i] = 0;
          c.n[i] = n + 1;
          return Math.abs(r + ps) / s;
        }
      }
      // (no run in progress and no exceedance: adaptRun would change nothing)
      let shift = 0;
      if (exceed || c.run[i] !== 0) {
        const dt = c.dt[i]!;
        let after = p.adaptAfter;
        if (dt > 0) {
          const byTime = Math.round(p.adaptWithinMs / dt);
          if (byTime < after) after = byTime < 6 ? 6 : byTime;
        }
        shift = adaptRun(c.run, c.runN, c.runSum, i, r, exceed, after);
      }
      if (shift !== 0) {
        c.l[i] = l + phi * b + shift;
        c.b[i] = 0;
        c.pShift[i] = shift;
        c.pShiftT[i] = tMs;
        c.n[i] = n + 1;
        return z;
      }
      if (exceed) e = r > 0 ? lim : -lim;
    }
    c.l[i] = l + phi * b + a * e;
    if (n >= 10) c.b[i] = phi * b + a * p.beta * e;
    if (P > 0) {
      // the season learns from a wider clip than the level: a recurring bump (a nightly cron) is
      // absorbed within days, while one-off anomalies leave only a fading imprint
      const ls = p.seasonClipK * s;
      const es = n < 10 ? r : r > ls ? ls : r < -ls ? -ls : r;
      const delta = p.gamma * (1 - a) * es;
      c.season[so + j0] = c.season[so + j0]! + (1 - w) * delta;
      c.season[so + j1] = c.season[so + j1]! + w * delta;
    }
    const ad = n < 10 ? Math.abs(r) : Math.abs(e);
    const sa = p.scaleAlpha * (n + 1) < 1 ? 1 / (n + 1) : p.scaleAlpha;
    const d0 = c.d[i]!;
    // d is the de-profiled (average) scale; the profile learns |e| relative to it
    c.d[i] = d0 + sa * (ad * rInv - d0);
    // slow (one-day memory) mean |e|: the reference the profile is relative to (the fast d
    // follows the local level within the hour and would leave the profile nothing to learn)
    if (useRho && n >= 10) {
      // accumulated per profile bin, applied when the bin is left (see enterProfileBin); the
      // one-day mean pins the profile near 1 while d carries the fast, de-profiled scale
      c.rAccE[i] = c.rAccE[i]! + ad;
      c.rAccN[i] = c.rAccN[i]! + 1;
    }
    c.n[i] = n + 1;
    return z;
  }

  /** A season was just adopted: the level absorbed the seasonal swing so far, so it is re-centred
   * on the de-seasonalised mean. */
  private recentre(i: number, tMs: number, mean: number): void {
    const c = this.soa.cols;
    this.cycStart[i] = NaN;
    const n = c.n[i]!;
    if (n > 0) c.l[i] = c.l[i]! - this.seasonAt(i, tMs);
    else c.l[i] = mean;
    c.b[i] = 0;
  }

  static restore(state: unknown): HoltWintersBank {
    const ver = peekVersion(state);
    const old = ver === 1 || ver === 2 || ver === 3 ? ver : 0;
    const s = readBankState(state, HoltWintersBank.KIND, old || HoltWintersBank.VERSION);
    const params = readParams(s, DEFAULT_HOLT_WINTERS);
    // version 1 binned every candidate with detectBins: keep that layout for its rings
    const b = new HoltWintersBank(old === 1 ? { ...params, fineBins: params.detectBins ?? DEFAULT_HOLT_WINTERS.detectBins } : params);
    if (old) {
      const n = getNumber(s, "size");
      // versions 1–2 had no time-of-day scale profile: start it flat (factor 1 everywhere)
      const R = Math.max(1, b.params.scaleBins);
      const cols = { ...getObject(s, "cols") };
      // versions 1–3 kept no adopted shift: none to undo
      cols.pShift = cols.pShiftT = encodeF64(new Float64Array(n));
      if (cols.rho === undefined || cols.dSlow === undefined) {
        cols.rho = encodeF64(new Float64Array(n * R).fill(1));
        cols.dSlow = cols.d!;
        cols.rBin = cols.rFrom = cols.rNext = cols.rAccE = cols.rAccN = encodeF64(new Float64Array(n));
        cols.rInv = encodeF64(new Float64Array(n).fill(1));
      }
      b.loadState({ ...s, cols });
    } else b.loadState(s);
    return b;
  }
}
