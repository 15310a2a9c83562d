/**
 * Tail calibration: turns any detector's raw score (higher = more anomalous, arbitrary units)
 * into a tail probability p = P(raw ≥ s) under the recently seen distribution, so scores from
 * different detectors mean the same thing and can be combined.
 *
 * Method: peaks-over-threshold with a generalised Pareto tail. The threshold u is an online
 * `q`-quantile of the raw scores (stochastic approximation, step ∝ β); the first two moments of
 * the excesses over u are EWMAs over exceedances (excesses capped at 6β so one huge anomaly
 * does not inflate them) and give the GPD shape ξ ∈ [0, maxShape] and scale σ by the method of
 * moments (Hosking & Wallis 1987). p(s) = (1 − q)·(1 + ξ(s − u)/σ)^(−1/ξ) above u (exponential
 * when ξ = 0), linear from 1 to (1 − q) below. Heavy-tailed streams thus get a heavy tail and
 * their routine 8σ excursions stay unremarkable. On top, a log-binned histogram of the scores
 * (24 bins, exponentially forgotten over `memory` points) gives the empirical exceedance
 * frequency, and p = max(GPD tail, empirical frequency): the calibrated probability is never
 * smaller than how often such scores were actually seen on this stream.
 * Papers: J. Pickands, "Statistical inference using extreme order statistics", 1975 (POT);
 * A. Siffer, P.-A. Fouque, A. Termier & C. Largouët, "Anomaly detection in streams with extreme
 * value theory" (SPOT), KDD 2017 — online POT for streaming thresholds.
 *
 * A prior (u0, β0) makes the calibration usable from the first point: for z-like scores
 * u0 = 2, β0 = 0.4 (the Gaussian |z| tail), so an uncalibrated 4σ reads p ≈ 3e-4.
 * Parameters: q (0.95), rate (0.02). Cost O(1); 3 doubles per slot (stream × detector).
 */
import { checkEnvelope, getNumber, getObject, readParams, type ColumnForm, type EncodedColumn, type StateEnvelope } from "./codec";
import { SoA } from "./soa";

export interface CalibratorParams {
  q: number;
  rate: number;
  /** upper bound of the GPD shape ξ (0 = exponential tail) */
  maxShape: number;
  /** memory (points) of the empirical tail histogram */
  memory: number;
  /** points needed before the empirical tail is used */
  minEmpirical: number;
}

/** Histogram bins: log-spaced from H_LO with ratio e^H_STEP (24 bins: 1 … ~1000). */
const HB = 24;
const H_LO = 1;
const H_STEP = Math.log(1000) / HB;

/** Doubles per cache line: `touch` reads one value of each line of the histogram rows. */
const TOUCH_STRIDE = 8;

export const DEFAULT_CALIBRATOR: CalibratorParams = { q: 0.95, rate: 0.02, maxShape: 0.45, memory: 20_000, minEmpirical: 500 };

export class TailCalibrator {
  static readonly KIND = "tail-calibrator";
  static readonly VERSION = 1;
  readonly params: CalibratorParams;
  private n = 0;
  private declare readonly decay: number;
  /** 1 − q, 1 − (1 − q) and 1 − q as the per-point formulas computed them (same doubles) */
  private declare readonly tail: number;
  private declare readonly oneMinusTail: number;
  private declare readonly oneMinusQ: number;
  private readonly soa: SoA<"u" | "beta" | "m2" | "cnt" | "hist" | "w" | "tot">;

  constructor(params: Partial<CalibratorParams> = {}, cap = 4) {
    this.params = { ...DEFAULT_CALIBRATOR, ...params };
    this.soa = new SoA({ u: 1, beta: 1, m2: 1, cnt: 1, hist: HB, w: 1, tot: 1 }, cap);
    this.decay = 1 / (1 - 1 / this.params.memory);
    this.tail = 1 - this.params.q;
    this.oneMinusTail = 1 - this.tail;
    this.oneMinusQ = 1 - this.params.q;
  }

  get size(): number {
    return this.n;
  }

  /** Makes room for `n` slots at once (see `SoA.reserve`); `add` then does not reallocate. */
  reserve(n: number): void {
    this.soa.reserve(n);
  }

  add(u0: number, beta0: number): number {
    const i = this.n;
    this.soa.ensure(i + 1);
    this.n++;
    this.reset(i, u0, beta0);
    return i;
  }

  reset(i: number, u0: number, beta0: number): void {
    const c = this.soa.cols;
    c.u[i] = u0;
    c.beta[i] = beta0;
    c.m2[i] = 2 * beta0 * beta0;
    c.cnt[i] = 0;
    c.hist.fill(0, i * HB, i * HB + HB);
    c.w[i] = 1;
    c.tot[i] = 0;
  }

  remove(i: number): void {
    this.soa.move(this.n - 1, i);
    this.n--;
  }

  /** Copies slot `from` to slot `to` (used by callers with several slots per stream). */
  move(from: number, to: number): void {
    this.soa.move(from, to);
  }

  /** Copies `src`'s slot `from` over slot `to` here. */
  copySlot(src: TailCalibrator, from: number, to: number): void {
    if (!(from >= 0 && from < src.n)) throw new RangeError(`no calibrator slot ${from}`);
    if (!(to >= 0 && to < this.n)) throw new RangeError(`no calibrator slot ${to}`);
    this.soa.copyFrom(src.soa, from, to);
  }

  truncate(n: number): void {
    this.n = n;
  }

  /** Tail probability of raw score s in slot i (pure): max(GPD tail, empirical exceedance
   * frequency), so a stream whose "normal" includes 10σ excursions cannot call them rare. */
  p(i: number, s: number): number {
    const c = this.soa.cols;
    const g = this.gpd(c.u[i]!, c.beta[i]!, c.m2[i]!, s);
    if (s < H_LO) return g;
    return this.empirical(i, g, c.w[i]!, c.tot[i]!, s, Number.NaN);
  }

  /**
   * max(g, empirical exceedance frequency of s ≥ H_LO) in slot i with weights w (latest) and
   * tot (all), given s's histogram position log(s / H_LO) / H_STEP when known (NaN: computed).
   */
  private empirical(i: number, g: number, w: number, tot: number, s: number, knownPos: number): number {
    if (tot < this.params.minEmpirical * w) return g;
    // weighted count of scores ≥ s (log-linear inside the bin)
    const pos = knownPos === knownPos ? knownPos : Math.log(s / H_LO) / H_STEP;
    const b = Math.floor(pos);
    const hb = HB;
    if (b >= hb) return g;
    // (the row and its end in locals: the optimiser does not hoist loads out of a loop, and
    // re-read the column and the module constant on every bin)
    const hist = this.soa.cols.hist;
    const o = i * hb;
    const end = o + hb;
    let k = hist[o + b]! * (1 - (pos - b));
    // the bins above b, added in order (four per iteration: the optimiser re-checks the row on
    // every iteration; the sum is the same one, bin by bin from the bottom)
    let j = o + b + 1;
    for (; j + 3 < end; j += 4) {
      k += hist[j]!;
      k += hist[j + 1]!;
      k += hist[j + 2]!;
      k += hist[j + 3]!;
    }
    for (; j < end; j++) k += hist[j]!;
    // one earlier occurrence (e.g. the first point of this very anomaly) does not make a score
    // normal: discount one observation's weight (the latest weight is the largest one)
    const e = (k - w / this.decay) / tot;
    return e > g ? e : g;
  }

  /**
   * The stream's own "typical extreme": the score exceeded by about `count` recent observations
   * of slot i (exponentially weighted like the histogram, the latest observation weighs 1).
   * Resolution is one log bin (×1.33), log-linear inside it. Returns H_LO (1) when fewer than
   * `count` scores ≥ 1 were seen. Pure; O(24).
   * Example: after 10,000 scores of which the largest three were 30, 12 and 9, extremeLevel(i, 3)
   * ≈ 9 (within one bin).
   */
  extremeLevel(i: number, count: number): number {
    const c = this.soa.cols;
    const hist = c.hist;
    const hb = HB;
    const o = i * hb;
    // (count − ½) latest-observation weights: older observations weigh slightly less
    const target = (count - 0.5) * (c.w[i]! / this.decay);
    let k = 0;
    for (let b = hb - 1; b >= 0; b--) {
      const h = hist[o + b]!;
      if (h > 0 && k + h >= target) {
        const frac = (target - k) / h;
        return H_LO * Math.exp((b + 1 - frac) * H_STEP);
      }
      k += h;
    }
    return H_LO;
  }

  /** GPD tail probability of s under threshold u and excess moments beta, m2 (linear below u). */
  private gpd(u: number, beta: number, m2: number, s: number): number {
    if (s <= u) return u > 0 ? 1 - this.oneMinusTail * (s > 0 ? s / u : 0) : 1;
    // GPD by the method of moments on the excesses: ξ = ½(1 − m²/v), σ = ½m(1 + m²/v)
    const m = beta;
    const v = m2 - m * m;
    const r = v > 1e-12 ? (m * m) / v : 1;
    let xi = 0.5 * (1 - r);
    if (xi < 0) xi = 0;
    const maxShape = this.params.maxShape;
    if (xi > maxShape) xi = maxShape;
    const sigma = xi === 0 ? m : 0.5 * m * (1 + r);
    const y = (s - u) / sigma;
    const tail = this.tail;
    return xi < 1e-6 ? tail * Math.exp(-y) : tail * Math.pow(1 + xi * y, -1 / xi);
  }

  /**
   * Reads the histogram rows of slots from..to−1 ahead of their updates (a cache warm-up, no
   * effect on results). Every update adds to one random bin of its slot's row, and with tens of
   * thousands of slots (15 MB of bins) nearly each of those adds waited on memory; loads in a
   * tight loop of their own overlap, and the updates then find the rows in cache.
   */
  touch(from: number, to: number): void {
    const h = this.soa.cols.hist;
    const hb = HB;
    const stride = TOUCH_STRIDE;
    const end = to * hb < h.length ? to * hb : h.length;
    let acc = 0;
    for (let j = from * hb; j < end; j += stride) acc += h[j]!;
    this.touched = acc;
  }
  /** (keeps `touch`'s loads from being optimised away) */
  private touched = 0;

  /**
   * `update` of `count` consecutive slots from i: scores src[si …], their p into dst[di …].
   * Arrays and indices cross the call, not doubles (a double argument or result of a call that
   * is not inlined is a heap number per call).
   */
  updateRow(i: number, count: number, src: Float64Array, si: number, dst: Float64Array, di: number): void {
    for (let k = 0; k < count; k++) dst[di + k] = this.update(i + k, src[si + k]!);
  }

  /** Returns p(s) then learns s. */
  update(i: number, s: number): number {
    const c = this.soa.cols;
    const u = c.u[i]!;
    // Most scores lie below both H_LO and the threshold: the tail is linear there and the
    // histogram not involved. That case is `learn`'s, step for step, in code small enough for
    // the optimiser to inline into the caller's loop (no call, doubles not boxed).
    if (!(s < H_LO && s <= u)) {
      // score and p cross the call in fields: a double argument or result of a call that is
      // not inlined is boxed, a heap number per call (most of a step's garbage)
      const io = this.learnIO;
      io[0] = s;
      this.learn(i);
      return io[1]!;
    }
    const beta = c.beta[i]!;
    const cnt = c.cnt[i]!;
    const w = c.w[i]!;
    const pr = u > 0 ? 1 - this.oneMinusTail * (s > 0 ? s / u : 0) : 1;
    const rate = this.params.rate;
    // faster while young
    const r = cnt < 200 ? rate * 3 : rate;
    const nu = u - r * beta * this.oneMinusQ;
    c.u[i] = nu < 0 ? 0 : nu;
    const tot1 = c.tot[i]! + w;
    const nw = w * this.decay;
    if (nw > 1e200) this.rescale(i, tot1, nw);
    else {
      c.tot[i] = tot1;
      c.w[i] = nw;
    }
    if (beta < 1e-6) c.beta[i] = 1e-6;
    c.cnt[i] = cnt + 1;
    return pr;
  }

  /** Brings slot i's weights back to 1 (latest) when they grow past 1e200 (rare). */
  private rescale(i: number, tot: number, nw: number): void {
    const c = this.soa.cols;
    const hist = c.hist;
    const hb = HB;
    const f = 1 / nw;
    for (let j = i * hb; j < i * hb + hb; j++) hist[j] = hist[j]! * f;
    c.tot[i] = tot * f;
    c.w[i] = 1;
  }

  /** `learn`'s score in (0) and tail probability out (1) */
  private readonly learnIO = new Float64Array(2);

  /**
   * `update` in general, of score `learnIO[0]`; leaves p in `learnIO[1]`. (The slot's values are read
   * once, into locals, and each column written once: `p` and the learning step below share them.)
   */
  private learn(i: number): void {
    const s = this.learnIO[0]!;
    const c = this.soa.cols;
    const u = c.u[i]!;
    const beta = c.beta[i]!;
    const m2 = c.m2[i]!;
    const cnt = c.cnt[i]!;
    const w = c.w[i]!;
    const tot = c.tot[i]!;
    let pr = this.gpd(u, beta, m2, s);
    // the histogram position, needed by p (once the empirical tail is in use) and below: one log
    const pos = s >= H_LO ? Math.log(s / H_LO) / H_STEP : Number.NaN;
    if (!(s < H_LO)) pr = this.empirical(i, pr, w, tot, s, pos);
    const rate = this.params.rate;
    // faster while young
    const r = cnt < 200 ? rate * 3 : rate;
    let nu: number;
    let nb = beta;
    if (s > u) {
      nu = u + r * beta * this.params.q;
      // excesses capped at 6β: one huge anomaly must not swing the tail shape (the empirical
      // histogram below still records how large it really was)
      const ex = s - u < 6 * beta ? s - u : 6 * beta;
      nb = beta + r * (ex - beta);
      c.m2[i] = m2 + r * (ex * ex - m2);
    } else {
      nu = u - r * beta * this.oneMinusQ;
    }
    c.u[i] = nu < 0 ? 0 : nu;
    // empirical histogram of the tail (log-spaced bins from H_LO), exponentially forgotten
    const hb = HB;
    const hist = c.hist;
    if (s >= H_LO) {
      let b = Math.floor(pos);
      if (b >= hb) b = hb - 1;
      hist[i * hb + b] = hist[i * hb + b]! + w;
    }
    const tot1 = tot + w;
    const nw = w * this.decay;
    if (nw > 1e200) this.rescale(i, tot1, nw);
    else {
      c.tot[i] = tot1;
      c.w[i] = nw;
    }
    c.beta[i] = nb < 1e-6 ? 1e-6 : nb;
    c.cnt[i] = cnt + 1;
    this.learnIO[1] = pr;
  }

  /** Raises slot i's threshold so that s maps to tail probability ≥ pTarget (feedback). */
  raiseTo(i: number, s: number, pTarget: number): void {
    const c = this.soa.cols;
    const tail = 1 - this.params.q;
    // bisection on u so that p(s) ≥ pTarget
    if (this.p(i, s) >= pTarget) return;
    let lo = c.u[i]!;
    let hi = Math.max(s, lo);
    c.u[i] = hi;
    for (let k = 0; k < 40; k++) {
      const mid = 0.5 * (lo + hi);
      c.u[i] = mid;
      if (this.p(i, s) >= pTarget) hi = mid;
      else lo = mid;
    }
    c.u[i] = hi;
  }

  threshold(i: number): number {
    return this.soa.cols.u[i]!;
  }

  /** The calibrator's state; its columns in `form` (see `ColumnForm`). */
  serialize(form: ColumnForm = "text"): StateEnvelope & Record<string, unknown> {
    return {
      kind: TailCalibrator.KIND,
      version: TailCalibrator.VERSION,
      params: { ...this.params },
      size: this.n,
      cols: this.soa.serialize(this.n, form),
    };
  }

  /** `serialize()` of a calibrator holding only `slots` (in that order); this one is not touched. */
  serializeSlots(slots: ArrayLike<number>): StateEnvelope & Record<string, unknown> {
    const cols = this.soa.gatherSlots(slots);
    const enc: Record<string, EncodedColumn> = {};
    for (const k of this.soa.keys) enc[k] = cols[k]; // in memory: no base64 round trip
    return { kind: TailCalibrator.KIND, version: TailCalibrator.VERSION, params: { ...this.params }, size: slots.length, cols: enc };
  }

  static restore(state: unknown): TailCalibrator {
    const s = checkEnvelope(state, TailCalibrator.KIND, TailCalibrator.VERSION);
    const t = new TailCalibrator(readParams(s, DEFAULT_CALIBRATOR));
    const n = getNumber(s, "size");
    t.soa.load(n, getObject(s, "cols"));
    t.n = n;
    return t;
  }
}
