/**
 * Context novelty: how much of the stream's current short context has never been seen before.
 *
 * Values are quantised into bins of a width fixed after a warm-up (the warm-up's range divided
 * by `bins`; values outside that range get further bins, so a bin means the same value band for
 * the life of the stream). The context at time t is the sequence of the last bins; its sub-
 * contexts are the grams (b_t), (b_t, b_{t−1}), …, (b_t … b_{t−order+1}). Every gram seen is
 * remembered in a fixed-size hashed bit set per stream (one bit per hash, no forgetting other
 * than collisions). The raw score is the fraction of the current grams not remembered: 1 when
 * even the value band is new, 1/order when only the longest transition is new, 0 for a context
 * the stream has shown before. Routine noise on a complex series keeps making new long grams;
 * the score likelihood downstream learns that rate and only a rise above it counts.
 *
 * In the spirit of the Contextual Anomaly Detector, CAD OSE (M. Smirnov, "CAD OSE", NAB 2016
 * entry): discretise the recent values into contexts; a context never seen is novel. Here the
 * memory is a bit set (state bounded per stream) and the grams are plain suffixes of the
 * context, not CAD's learnt semi-contexts.
 * Parameters: warmup (points, 150), bins (8), order (5 in the engine), bits (4,096 per stream).
 * Cost O(order) per point. Example: a sine between 0 and 10 learnt for 1,000 points, then a
 * point at 25: its value band was never seen, score 1.
 */
import { BaseBank } from "./bank";

export interface ContextNoveltyParams {
  warmup: number;
  bins: number;
  order: number;
  /** Bit-set size per stream, a multiple of 32. */
  bits: number;
}

export const DEFAULT_CONTEXT_NOVELTY: ContextNoveltyParams = { warmup: 150, bins: 8, order: 3, bits: 4096 };

/** Context length kept per stream (`probe` shifts the context unrolled for this value). */
const MAX_ORDER = 8;
const BIN_LIMIT = 1e6;

/** MurmurHash3's 32-bit finaliser (A. Appleby): a full avalanche of one word. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

type Cols = "n" | "lo" | "hi" | "q" | "hist";

export class ContextNoveltyBank extends BaseBank<Cols, ContextNoveltyParams, "set"> {
  static readonly KIND = "context-novelty";
  static readonly VERSION = 1;
  readonly kind = ContextNoveltyBank.KIND;
  private declare readonly words: number;
  private declare readonly order: number;
  /** bits − 1 when the bit count is a power of two (the index is then a mask, no division), else −1 */
  private declare readonly pow2Mask: number;

  constructor(params: Partial<ContextNoveltyParams> = {}, cap = 4) {
    const p = { ...DEFAULT_CONTEXT_NOVELTY, ...params };
    const words = Math.max(1, Math.ceil(p.bits / 32));
    const order = Math.max(1, Math.min(MAX_ORDER, Math.floor(p.order)));
    // the bit set as 32-bit words (half the memory of doubles: its reads are the bank's cache
    // misses); it serialises as the doubles it used to be stored in
    super(p, { n: 1, lo: 1, hi: 1, q: 1, hist: MAX_ORDER }, cap, { set: words });
    this.words = words;
    this.order = order;
    const bits = words * 32;
    this.pow2Mask = (bits & (bits - 1)) === 0 ? bits - 1 : -1;
  }

  protected init(i: number): void {
    const c = this.soa.cols;
    c.lo[i] = Infinity;
    c.hi[i] = -Infinity;
  }

  /** Novelty (0–1) of value x without changing state; NaN while learning (2 × `warmup` points). */
  score(i: number, x: number, _tMs?: number): number {
    if (x !== x) return NaN;
    const c = this.soa.cols;
    const q = c.q[i]!;
    if (!(q > 0) || c.n[i]! < 2 * this.params.warmup) return NaN;
    return this.probe(i, this.bin(i, x), false);
  }

  /**
   * Scores x, then remembers its context; returns the novelty (0–1), NaN while learning: the
   * first `warmup` points set the bands, the next `warmup` fill the memory.
   */
  update(i: number, x: number, _tMs?: number): number {
    if (x !== x) return NaN;
    const c = this.soa.cols;
    const n = c.n[i]! + 1;
    c.n[i] = n;
    if (!(c.q[i]! > 0)) {
      if (x < c.lo[i]!) c.lo[i] = x;
      if (x > c.hi[i]!) c.hi[i] = x;
      if (n < this.params.warmup) return NaN;
      const lo = c.lo[i]!;
      const range = c.hi[i]! - lo;
      const mag = Math.abs(lo) + Math.abs(c.hi[i]!);
      // a flat warm-up: bands of 1 % of the level (or an absolute epsilon at zero)
      c.q[i] = range > 0 ? range / this.params.bins : mag > 0 ? 0.01 * mag : 1e-9;
      return NaN;
    }
    const nv = this.probe(i, this.bin(i, x), true);
    // the memory starts empty: its first `warmup` contexts are learnt, not scored
    return n <= 2 * this.params.warmup ? NaN : nv;
  }

  private bin(i: number, x: number): number {
    const c = this.soa.cols;
    const b = Math.floor((x - c.lo[i]!) / c.q[i]!);
    return b > BIN_LIMIT ? BIN_LIMIT : b < -BIN_LIMIT ? -BIN_LIMIT : b;
  }

  /** Fraction of the grams ending in bin b that are new; with `learn`, remembers them and shifts b in. */
  private probe(i: number, b: number, learn: boolean): number {
    const c = this.soa.cols;
    const set = this.soa.wcols.set;
    const hist = c.hist;
    const ho = i * MAX_ORDER;
    const so = i * this.words;
    // (an unsigned divisor: with `h >>> 0` above 2³¹ the optimiser otherwise took the modulo as
    // a floating-point one, x87 `fprem`; the integer remainder is the same number)
    const mask = (this.words * 32) >>> 0;
    // for a power of two the remainder is the low bits: the same index without the division
    const pow2Mask = this.pow2Mask;
    // grams need history: the first points after warm-up use the orders available (an integer
    // count: the loop below then counts in integers)
    const have = c.n[i]! - this.params.warmup;
    const order = this.order;
    const k = (have < order ? (have > 0 ? have : 1) : order) | 0;
    // gram hash: each bin enters after the previous ones are fully mixed (order matters)
    let h = fmix32(0x9e3779b9 ^ b);
    let novel = 0;
    let newBand = false;
    for (let o = 0; o < k; o++) {
      if (o > 0) h = fmix32(h ^ hist[ho + o - 1]!);
      const bit = pow2Mask >= 0 ? h & pow2Mask : (h >>> 0) % mask;
      const w = so + (bit >>> 5);
      const f = 1 << (bit & 31);
      const word = set[w]!;
      if ((word & f) === 0) {
        novel++;
        if (o === 0) newBand = true;
        if (learn) set[w] = word | f;
      }
    }
    // a value in a band never seen is remembered but kept out of the context: one outlier
    // must not make the next `order` − 1 contexts novel too (a shift into the band repeats it,
    // and its second point enters the context)
    if (learn && !newBand) {
      // the context moves on by one: hist[ho + 1 … ho + MAX_ORDER − 1] ← hist[ho … ho + MAX_ORDER − 2]
      // (unrolled for MAX_ORDER = 8: the loop re-checked the row and the constant per entry)
      hist[ho + 7] = hist[ho + 6]!;
      hist[ho + 6] = hist[ho + 5]!;
      hist[ho + 5] = hist[ho + 4]!;
      hist[ho + 4] = hist[ho + 3]!;
      hist[ho + 3] = hist[ho + 2]!;
      hist[ho + 2] = hist[ho + 1]!;
      hist[ho + 1] = hist[ho]!;
      hist[ho] = b;
    }
    return novel / k;
  }

  static restore(state: unknown): ContextNoveltyBank {
    return BaseBank.restoreAs(state, ContextNoveltyBank.KIND, ContextNoveltyBank.VERSION, DEFAULT_CONTEXT_NOVELTY, (p) => new ContextNoveltyBank(p));
  }
}
