/**
 * Season (period) detection for Holt-Winters, by autocorrelation.
 *
 * For each candidate period P (hourly, daily, weekly by default) the stream is averaged into
 * `detectBins` bins per period (`fineBins` = 12 for the shortest candidate), the last
 * `detectCycles` periods kept in a ring. Once per cycle for the shortest candidate, four times per
 * cycle for the others (after ≥ 2 cycles, so a weekly cycle is adopted soon after 2 weeks) the
 * autocorrelation of the binned series at lag P is compared with the one at lag P/2: a period is
 * accepted when ACF(P) ≥ acfMin and ACF(P) − max(0, ACF(P/2)) ≥ acfMargin (this rejects trends
 * and slower cycles, whose ACF is high at every short lag). A candidate that is a multiple of the
 * current period (a week over a day) must also correlate `multipleMargin` better at its own lag
 * than at one current period (else it only repeats the shorter pattern: one outlier, diluted by
 * the coarser bins, used to make a week win over a clean day). The strongest accepted candidate
 * becomes the season and its profile is initialised from the binned mean profile. Candidates
 * need ≥ 8 samples per period at the stream's rate, and must be integer multiples of the first
 * (the binning cascades from it).
 *
 * The state lives in the Holt-Winters bank's columns (`SeasonCols`), so that it is saved,
 * moved and reset with the rest of the stream; this module only reads and writes them.
 * Cost: O(1) per point, plus O(detectBins·detectCycles) once per candidate cycle; memory
 * 3·detectBins·detectCycles doubles per stream.
 */

/** Candidate periods per stream (`SeasonParams.candidates`). */
export const CANDIDATES = 3;
const NC = CANDIDATES;

export interface SeasonParams {
  /** Bins of the adopted seasonal profile (at most; fewer when the stream samples the period more coarsely). */
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
}

/** The Holt-Winters columns detection uses (`period`, `sb`, `season`: the adopted season). */
export type SeasonCol = "ring" | "accSum" | "accN" | "curBin" | "pushed" | "bSum" | "bN" | "bBin" | "bNext" | "dt" | "lastT" | "period" | "sb" | "strength" | "season";
export type SeasonCols = Record<SeasonCol, Float64Array>;

/** Ring length per candidate (stride of `ring` is `CANDIDATES` times it). */
export function seasonRingLength(p: SeasonParams): number {
  return Math.max(p.detectBins, p.fineBins) * p.detectCycles;
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

/**
 * Called when stream i adopts a season (period, sb and season already written): the model
 * re-centres its level; `mean` is the detection window's mean.
 */
export type SeasonAdopted = (i: number, tMs: number, mean: number) => void;

export class SeasonDetector {
  private readonly ringLen: number;
  /** Base bins per bin of each candidate (1 for the first). */
  private readonly ratios: Int32Array;
  /** Scratch for the robust re-check: the window's bin means in time order, winsorised. */
  private readonly win: Float64Array;
  private readonly profile: Float64Array;
  private readonly profileN: Float64Array;

  constructor(
    private readonly params: Readonly<SeasonParams>,
    private readonly adopted: SeasonAdopted,
  ) {
    const p = params;
    this.ringLen = seasonRingLength(p);
    this.win = new Float64Array(this.ringLen);
    this.profile = new Float64Array(Math.max(p.detectBins, p.fineBins));
    this.profileN = new Float64Array(Math.max(p.detectBins, p.fineBins));
    this.ratios = new Int32Array(NC);
    for (let k = 0; k < NC; k++) {
      const r = k === 0 ? 1 : (p.candidates[k]! * p.fineBins) / (p.candidates[0]! * p.detectBins);
      if (!Number.isInteger(r) || r < 1) throw new Error("holt-winters: candidate bin widths must be integer multiples of the first's");
      this.ratios[k] = r;
    }
  }

  /** Fresh-stream values of slot i (columns already zeroed): empty rings, no open bins. */
  init(c: SeasonCols, i: number): void {
    c.ring.fill(NaN, i * NC * this.ringLen, (i + 1) * NC * this.ringLen);
    c.curBin.fill(-1, i * NC, i * NC + NC);
    c.bBin[i] = -1;
    c.bNext[i] = -Infinity;
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
  detect(c: SeasonCols, i: number, x: number, tMs: number): void {
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
          this.closeBin(c, i, k, kc, kb, dt);
        }
        c.curBin[ck] = kb;
        c.accSum[ck] = c.accSum[ck]! + sum;
        c.accN[ck] = c.accN[ck]! + cnt;
        if (kn !== kb) this.closeBin(c, i, k, kb, kn, dt);
      }
    }
    c.bBin[i] = bin;
    c.bNext[i] = ((bin + 1) * P0) / DB;
    c.bSum[i] = x;
    c.bN[i] = 1;
  }

  /** Closes candidate k's bin `cur` (next bin = `next`), evaluating once per cycle. */
  private closeBin(c: SeasonCols, i: number, k: number, cur: number, next: number, dt: number): void {
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
      this.evaluate(c, i, k, next - 1, c.lastT[i]!);
    }
  }

  private acf(ring: Float64Array, ro: number, L: number, last: number, count: number, lag: number, mean: number, variance: number): number {
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
  private robustStrength(ring: Float64Array, ro: number, L: number, last: number, count: number, DB: number, minFull: number): number {
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

  private evaluate(c: SeasonCols, i: number, k: number, last: number, tMs: number): void {
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
    const full = this.acf(ring, ro, L, last, count, DB, mean, variance);
    const P = p.candidates[k]!;
    const curP = c.period[i]!;
    // a rival candidate that would be rejected whatever its half-period ACF (strength ≤ full)
    // skips that second pass: same outcome, half the work on most evaluations
    if (P !== curP && (full < p.acfMin || full < p.acfMargin || (curP > 0 && full < c.strength[i]! + 0.1))) return;
    const half = this.acf(ring, ro, L, last, count, DB >> 1, mean, variance);
    const strength = full - Math.max(0, half);
    if (P === curP) {
      c.strength[i] = strength;
      if (full < p.acfMin * 0.5 || strength < 0) {
        // before dropping a learnt season, check that one incident (a 30-min burst at 30× the
        // level) is not what dominates the variance: the season stays if the winsorised window
        // still shows it (then that strength counts)
        const rs = this.robustStrength(ring, ro, L, last, count, DB, p.acfMin * 0.5);
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
      if (lagCur >= 1 && full - this.acf(ring, ro, L, last, count, lagCur, mean, variance) < p.multipleMargin) return;
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
    c.period[i] = P;
    c.sb[i] = sb;
    c.strength[i] = strength;
    this.adopted(i, tMs, mean);
  }
}
