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
 * Period detection (autocorrelation): for each candidate period P (hourly, daily, weekly by
 * default) the stream is averaged into `detectBins` bins per period (`fineBins` = 12 for the
 * shortest candidate), the last `detectCycles` periods kept in a ring. Once per cycle for the
 * shortest candidate, four times per cycle for the others (after ≥ 2 cycles, so a weekly cycle
 * is adopted soon after 2 weeks) the autocorrelation of the
 * binned series at lag
 * P is compared with the one at lag P/2: a period is accepted when ACF(P) ≥ acfMin and
 * ACF(P) − max(0, ACF(P/2)) ≥ acfMargin (this rejects trends and slower cycles, whose ACF is high
 * at every short lag). A candidate that is a multiple of the current period (a week over a day)
 * must also correlate `multipleMargin` better at its own lag than at one current period (else
 * it only repeats the shorter pattern: one outlier, diluted by the coarser bins, used to make a
 * week win over a clean day). The strongest accepted candidate becomes the season and S is initialised
 * from the binned mean profile. Candidates need ≥ 8 samples per period at the stream's rate.
 *
 * Parameters: alpha (0.1), beta (0.02), phi (0.98), gamma (0.2), huberK (3.5), scaleAlpha (0.02),
 * adaptAfter (30 points) / adaptWithinMs (30 min) for adopting a persistent level shift, and
 * revertWithinMs (2 h): a return to the level held before the adopted shift undoes it at once
 * (regime memory), so the end of a long excursion does not read as a second anomaly.
 * Warm-up: level = running mean for the first 1/alpha points, trend learnt after 10 points,
 * season after 2 full cycles of the candidate period (e.g. 2 days for daily).
 * Candidate periods must be integer multiples of the first (the binning cascades from it).
 * Cost: O(1) per point (plus O(detectBins·detectCycles) once per candidate cycle);
 * memory seasonBins + 3·detectBins·detectCycles doubles per stream.
 */
import { adaptRun, BaseBank, readBankState } from "./bank";
import { encodeF64, getNumber, getObject } from "./codec";
import type { ForecastingBank } from "./types";

export interface HoltWintersParams {
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
  seasonBins: number;
  /** Detection bins per period of the shortest candidate (its bin width is the cascade's base). */
  fineBins: number;
  /** Detection bins per period of the other candidates. */
  detectBins: number;
  detectCycles: number;
  /** Candidate periods in ms (exactly 3). */
  candidates: [number, number, number];
  acfMin: number;
  acfMargin: number;
  /** A candidate that is a multiple of the current period must correlate this much better at
   * its own lag than at the current period's lag. */
  multipleMargin: number;
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
  | "l"
  | "b"
  | "d"
  | "n"
  | "lastT"
  | "dt"
  | "run"
  | "runN"
  | "runSum"
  | "period"
  | "sb"
  | "strength"
  | "season"
  | "ring"
  | "accSum"
  | "accN"
  | "curBin"
  | "pushed"
  | "bSum"
  | "bN"
  | "bBin"
  | "bNext"
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

const NC = 3;
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

/**
 * a % m for an integer a (|a| < 2^53) and an integer m > 0, without the fmod call V8 makes for
 * `%` on doubles: for a ≥ 0 the quotient a / m never rounds up to the next integer (its distance
 * to it is ≥ 1/m, far more than the rounding error), so a − ⌊a/m⌋·m is exactly a % m. Negative a
 * keeps `%` (and its sign).
 */
function irem(a: number, m: number): number {
  return a >= 0 ? a - Math.floor(a / m) * m : a % m;
}

export class HoltWintersBank extends BaseBank<Cols, HoltWintersParams> implements ForecastingBank {
  static readonly KIND = "holt-winters";
  /**
   * 2: per-candidate detection bins (`fineBins`); version-1 states restore with fineBins = detectBins.
   * 3: time-of-day scale profile. 4: the last adopted level shift (`pShift`, `pShiftT`).
   */
  static readonly VERSION = 4;
  readonly kind = HoltWintersBank.KIND;
  private readonly ringLen: number;
  private readonly profile: Float64Array;
  private readonly profileN: Float64Array;
  /** Base bins per bin of each candidate (1 for the first). */
  private readonly ratios: Int32Array;
  /** Scratch for the robust re-check: the window's bin means in time order, winsorised. */
  private readonly win: Float64Array;
  /**
   * Per stream: start (ms) of the seasonal cycle holding the last learnt point, so that most
   * points get their phase from one subtraction instead of `phaseOf`'s floor and division. A pure
   * cache (NaN = unknown, refilled on the next miss): never serialised, reset with the period.
   */
  private cycStart = new Float64Array(4).fill(NaN);

  constructor(params: Partial<HoltWintersParams> = {}, cap = 4) {
    const p = { ...DEFAULT_HOLT_WINTERS, ...params };
    const ringLen = Math.max(p.detectBins, p.fineBins) * p.detectCycles;
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
    this.ringLen = ringLen;
    this.win = new Float64Array(ringLen);
    this.profile = new Float64Array(Math.max(p.detectBins, p.fineBins));
    this.profileN = new Float64Array(Math.max(p.detectBins, p.fineBins));
    this.ratios = new Int32Array(NC);
    for (let k = 0; k < NC; k++) {
      const r = k === 0 ? 1 : (p.candidates[k]! * p.fineBins) / (p.candidates[0]! * p.detectBins);
      if (!Number.isInteger(r) || r < 1) throw new Error("holt-winters: candidate bin widths must be integer multiples of the first's");
      this.ratios[k] = r;
    }
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
    c.ring.fill(NaN, i * NC * this.ringLen, (i + 1) * NC * this.ringLen);
    c.curBin.fill(-1, i * NC, i * NC + NC);
    c.bBin[i] = -1;
    c.bNext[i] = -Infinity;
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
    const pos = phaseOf(tMs, P) * sb - 0.5;
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
    } else this.detect(i, x, tMs);
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

  /** Bins per period of candidate k: `fineBins` for the shortest, `detectBins` for the others. */
  private binsOf(k: number): number {
    return k === 0 ? this.params.fineBins : this.params.detectBins;
  }

  /**
   * Feeds the binned rings. Work is cascaded: a single base accumulator at the shortest
   * candidate's bin width (P0/fineBins, 5 min for the hourly candidate) is all a point touches
   * until that bin closes, so on 1-minute data the cascade runs once per 5 points; closed base
   * bins feed the first candidate's ring and the coarser candidates' accumulators (their bin
   * widths P_k/detectBins are integer multiples of the base width). Each candidate is
   * re-evaluated once per cycle at a stream-specific phase. Called by `update` only when tMs
   * reaches the open base bin's end; one method (too large for V8 to inline into `update`), so
   * the rarely taken paths here, first reached hours into a stream, never deoptimise `update`.
   */
  private detect(i: number, x: number, tMs: number): void {
    const c = this.soa.cols;
    const DB = this.params.fineBins;
    const P0 = this.params.candidates[0]!;
    const bin = Math.floor((tMs * DB) / P0);
    const cur = c.bBin[i]!;
    const cnt = c.bN[i]!;
    if (cnt > 0 && cur >= 0) {
      // close base bin `cur` (next = `bin`) into every candidate
      const sum = c.bSum[i]!;
      const dt = c.dt[i]!;
      const ratios = this.ratios;
      // (bin numbers below 2^52 in magnitude: the products below are exact)
      const exact = cur < 4503599627370496 && bin < 4503599627370496 && cur > -4503599627370496 && bin > -4503599627370496;
      for (let k = 0; k < NC; k++) {
        const ck = i * NC + k;
        const ratio = ratios[k]!;
        const kc = c.curBin[ck]!;
        // ⌊cur/ratio⌋ and ⌊bin/ratio⌋ (exact integers): the open bin kc usually still holds
        // both, checked with exact products instead of two divisions
        let kb = cur;
        let kn = bin;
        if (ratio !== 1 && !exact) {
          kb = Math.floor(cur / ratio);
          kn = Math.floor(bin / ratio);
        } else if (ratio !== 1) {
          const lo = kc * ratio;
          kb = kc >= 0 && cur >= lo && cur < lo + ratio ? kc : Math.floor(cur / ratio);
          const lb = kb * ratio;
          kn = bin >= lb && bin < lb + ratio ? kb : Math.floor(bin / ratio);
        }
        if (kc >= 0 && kc !== kb) {
          // (only happens after a gap) flush the stale accumulator
          this.closeBin(i, k, kc, kb, dt);
        }
        c.curBin[ck] = kb;
        c.accSum[ck] = c.accSum[ck]! + sum;
        c.accN[ck] = c.accN[ck]! + cnt;
        if (kn !== kb) this.closeBin(i, k, kb, kn, dt);
      }
    }
    c.bBin[i] = bin;
    c.bNext[i] = ((bin + 1) * P0) / DB;
    c.bSum[i] = x;
    c.bN[i] = 1;
  }

  /** Closes candidate k's bin `cur` (next bin = `next`), evaluating once per cycle. */
  private closeBin(i: number, k: number, cur: number, next: number, dt: number): void {
    const c = this.soa.cols;
    const p = this.params;
    const DB = this.binsOf(k);
    const L = DB * p.detectCycles;
    const ck = i * NC + k;
    const ro = ck * this.ringLen;
    const n = c.accN[ck]!;
    c.ring[ro + irem(cur, L)] = n > 0 ? c.accSum[ck]! / n : NaN;
    const skip = Math.min(next - cur - 1, L);
    for (let j = 1; j <= skip; j++) c.ring[ro + irem(cur + j, L)] = NaN;
    c.pushed[ck] = c.pushed[ck]! + (next - cur);
    c.accSum[ck] = 0;
    c.accN[ck] = 0;
    c.curBin[ck] = next;
    const P = p.candidates[k]!;
    // the shortest candidate is evaluated once per cycle (cheap to wait for), longer ones 4× so
    // a weekly season is adopted soon after 2 weeks
    const Q = k === 0 ? DB : DB >> 2;
    // once per Q bins, at a per-stream offset: "the step cur → next passed an evaluation bin",
    // not "next is one" (samples sparser than the bins skip bins, e.g. hourly data in 30-min daily
    // bins, and their next bins can all miss the residue: the daily season was never evaluated)
    const off = (i * 7) % Q;
    if (c.pushed[ck]! >= 2 * DB && Math.floor((next - off) / Q) > Math.floor((cur - off) / Q) && dt > 0 && P / dt >= 8) {
      this.evaluate(i, k, next - 1, c.lastT[i]!);
    }
  }

  private acf(ro: number, L: number, last: number, count: number, lag: number, mean: number, variance: number): number {
    const ring = this.soa.cols.ring;
    let s = 0;
    let m = 0;
    const first = last - count + 1;
    let a = ((first % L) + L) % L;
    let b = (((first + lag) % L) + L) % L;
    for (let t = first; t + lag <= last; t++) {
      const va = ring[ro + a]!;
      const vb = ring[ro + b]!;
      if (va === va && vb === vb) {
        s += (va - mean) * (vb - mean);
        m++;
      }
      if (++a === L) a = 0;
      if (++b === L) b = 0;
    }
    return m < 4 || variance <= 0 ? 0 : s / m / variance;
  }

  /**
   * Robust re-check of a learnt period: the window's bins winsorised at the phase-wise median
   * ± 5 σ of the residuals about it (σ from their mean absolute value; phase-wise, not marginal:
   * a load curve flat at night has a tiny marginal spread and its daytime hump is the pattern),
   * then ACF at the period and half of it as in `evaluate` (robust ACF after Ma & Genton,
   * J. Time Series Analysis 21(6), 2000). Returns the strength when ACF(P) ≥ minFull and the
   * strength ≥ 0 (the pattern is there), else −1. Runs only when a season is about to be dropped.
   */
  private robustStrength(ro: number, L: number, last: number, count: number, DB: number, minFull: number): number {
    const ring = this.soa.cols.ring;
    const win = this.win;
    const pm = this.profile; // scratch (rebuilt before any use as a profile)
    const tmp = this.profileN; // scratch: one phase's values
    for (let q = 0, j = (((last - count + 1) % L) + L) % L; q < count; q++) {
      win[q] = ring[ro + j]!;
      if (++j === L) j = 0;
    }
    const ph0 = (((last - count + 1) % DB) + DB) % DB;
    for (let ph = 0; ph < DB; ph++) {
      let k = 0;
      for (let q = (ph - ph0 + DB) % DB; q < count && k < tmp.length; q += DB) {
        const v = win[q]!;
        if (v !== v) continue;
        let z = k++;
        while (z > 0 && tmp[z - 1]! > v) {
          tmp[z] = tmp[z - 1]!;
          z--;
        }
        tmp[z] = v;
      }
      pm[ph] = k === 0 ? NaN : k & 1 ? tmp[k >> 1]! : 0.5 * (tmp[(k >> 1) - 1]! + tmp[k >> 1]!);
    }
    let nr = 0;
    let sa = 0;
    for (let q = 0, ph = ph0; q < count; q++) {
      const v = win[q]!;
      const md = pm[ph]!;
      if (v === v && md === md) {
        sa += v > md ? v - md : md - v;
        nr++;
      }
      if (++ph === DB) ph = 0;
    }
    if (nr < 2 * DB) return -1;
    const band = (5 * 1.2533 * sa) / nr;
    let sum = 0;
    let m = 0;
    for (let q = 0, ph = ph0; q < count; q++) {
      let v = win[q]!;
      const md = pm[ph]!;
      if (v === v && md === md) {
        if (v > md + band) v = md + band;
        else if (v < md - band) v = md - band;
        win[q] = v;
      }
      if (v === v) {
        sum += v;
        m++;
      }
      if (++ph === DB) ph = 0;
    }
    const mean = sum / m;
    let ss = 0;
    for (let q = 0; q < count; q++) {
      const v = win[q]!;
      if (v === v) ss += (v - mean) * (v - mean);
    }
    const variance = ss / m;
    if (!(variance > 0)) return -1;
    const acfW = (lag: number): number => {
      let s = 0;
      let n = 0;
      for (let q = 0; q + lag < count; q++) {
        const va = win[q]!;
        const vb = win[q + lag]!;
        if (va === va && vb === vb) {
          s += (va - mean) * (vb - mean);
          n++;
        }
      }
      return n < 4 ? 0 : s / n / variance;
    };
    const full = acfW(DB);
    const strength = full - Math.max(0, acfW(DB >> 1));
    return full >= minFull && strength >= 0 ? strength : -1;
  }

  private evaluate(i: number, k: number, last: number, tMs: number): void {
    const c = this.soa.cols;
    const p = this.params;
    const DB = this.binsOf(k);
    const L = DB * p.detectCycles;
    const ck = i * NC + k;
    const ro = ck * this.ringLen;
    const count = Math.min(L, c.pushed[ck]!);
    const ring = c.ring;
    // ring slots of bins last−count+1 … last, walked with a wrapping index (no % per element)
    const j0 = (((last - count + 1) % L) + L) % L;
    let sum = 0;
    let m = 0;
    for (let q = 0, j = j0; q < count; q++) {
      const v = ring[ro + j]!;
      if (v === v) {
        sum += v;
        m++;
      }
      if (++j === L) j = 0;
    }
    if (m < 2 * DB) return;
    const mean = sum / m;
    let ss = 0;
    for (let q = 0, j = j0; q < count; q++) {
      const v = ring[ro + j]!;
      if (v === v) ss += (v - mean) * (v - mean);
      if (++j === L) j = 0;
    }
    const variance = ss / m;
    if (variance <= 0) return;
    const full = this.acf(ro, L, last, count, DB, mean, variance);
    const P = p.candidates[k]!;
    const curP = c.period[i]!;
    // a rival candidate that would be rejected whatever its half-period ACF (strength ≤ full)
    // skips that second pass: same outcome, half the work on most evaluations
    if (P !== curP && (full < p.acfMin || full < p.acfMargin || (curP > 0 && full < c.strength[i]! + 0.1))) return;
    const half = this.acf(ro, L, last, count, DB >> 1, mean, variance);
    const strength = full - Math.max(0, half);
    if (P === curP) {
      c.strength[i] = strength;
      if (full < p.acfMin * 0.5 || strength < 0) {
        // before dropping a learnt season, check that one incident (a 30-min burst at 30× the
        // level) is not what dominates the variance: the season stays if the winsorised window
        // still shows it (then that strength counts)
        const rs = this.robustStrength(ro, L, last, count, DB, p.acfMin * 0.5);
        if (rs >= 0) {
          c.strength[i] = rs;
          return;
        }
        c.period[i] = 0; // the pattern is gone
        c.strength[i] = 0;
      }
      return;
    }
    if (full < p.acfMin || strength < p.acfMargin) return;
    if (curP > 0 && strength < c.strength[i]! + 0.1) return;
    // a multiple of the current period (a week over a day) must beat a lag of one current
    // period on its own binned series: a purely daily pattern correlates as well at one day as
    // at one week, and only noise (one outlier diluted by the coarser bins) would make it win
    if (curP > 0 && P > curP && P % curP === 0) {
      const lagCur = Math.round((DB * curP) / P);
      if (lagCur >= 1 && full - this.acf(ro, L, last, count, lagCur, mean, variance) < p.multipleMargin) return;
    }
    // adopt: profile = mean over cycles per phase bin, minus overall mean
    // (one pass over the bins in time order: each phase bin sums its values in the same order
    // as a per-phase scan would)
    const prof = this.profile;
    const profN = this.profileN;
    prof.fill(0, 0, DB);
    profN.fill(0, 0, DB);
    for (let q = 0, j = j0, ph = (((last - count + 1) % DB) + DB) % DB; q < count; q++) {
      const v = ring[ro + j]!;
      if (v === v) {
        prof[ph] = prof[ph]! + v;
        profN[ph] = profN[ph]! + 1;
      }
      if (++j === L) j = 0;
      if (++ph === DB) ph = 0;
    }
    for (let j = 0; j < DB; j++) {
      const q = profN[j]!;
      prof[j] = q > 0 ? prof[j]! / q - mean : 0;
    }
    const dt = c.dt[i]!;
    const sb = Math.max(4, Math.min(p.seasonBins, Math.round(P / dt)));
    const o = i * p.seasonBins;
    for (let j = 0; j < sb; j++) {
      const pos = ((j + 0.5) / sb) * DB - 0.5;
      const f = Math.floor(pos);
      const w = pos - f;
      const j0 = f < 0 ? DB - 1 : f;
      const j1 = j0 + 1 >= DB ? 0 : j0 + 1;
      c.season[o + j] = (1 - w) * prof[j0]! + w * prof[j1]!;
    }
    // the level absorbed the seasonal swing so far: re-centre it on the de-seasonalised mean
    c.period[i] = P;
    this.cycStart[i] = NaN;
    c.sb[i] = sb;
    c.strength[i] = strength;
    const n = c.n[i]!;
    if (n > 0) c.l[i] = c.l[i]! - this.seasonAt(i, tMs);
    else c.l[i] = mean;
    c.b[i] = 0;
  }

  static restore(state: unknown): HoltWintersBank {
    const ver = typeof state === "object" && state !== null ? (state as { version?: unknown }).version : undefined;
    const old = ver === 1 || ver === 2 || ver === 3 ? ver : 0;
    const s = readBankState(state, HoltWintersBank.KIND, old || HoltWintersBank.VERSION);
    const params = s.params as Partial<HoltWintersParams>;
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
