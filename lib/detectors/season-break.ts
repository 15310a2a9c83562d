/**
 * Season break: a stream with a daily (or weekly) pattern is far outside what it did at this
 * time of day on each of the last `cycles` days, for a sustained run. Catches a daily peak that
 * does not come (or comes where there never was one): the forecasters adopt the new level within
 * the hour and the season-blind detectors see an ordinary value, so no detector stays surprised.
 *
 * Per stream, the period P is Holt-Winters' (only P ≥ `minPeriodMs`). The day is cut into `bins`
 * phase bins; each completed bin keeps the mean of its points, for the last `cycles` + 1 cycles
 * (the one being filled and the `cycles` before it). A point's envelope is the minimum and
 * maximum of those earlier cycles' means at its bin and the two neighbouring bins (a pattern
 * that runs a bin early or late is no break). Its distance outside the envelope is measured in
 * the stream's scale, the EWMA of |x − mean of the earlier cycles at its bin| over points inside
 * the envelope's reach (frozen while breaking, so a break cannot widen its own bar).
 * A point counts when that distance exceeds `ratio`; `minRun` counted points in a row spanning
 * at least `minRunMs` return the run's mean distance / `ratio` (≥ 1), anything else 0.
 * Every point still enters its bin's mean, so a new pattern sits inside the envelope the next
 * day: a break alarms once, not every day after.
 *
 * The same hours also keep the score likelihood's recent mean of raw scores (its maximum per
 * hour and cycle): `routine` gives the level it reached in this hour on every recent cycle, the
 * bar the likelihood then judges this hour against (see `seasonRoutine`).
 *
 * A seasonal-naive reference (the forecast "same time last season") used as a control band, in
 * the spirit of R. J. Hyndman & G. Athanasopoulos, "Forecasting: principles and practice", §5.2,
 * with the run rule of a Shewhart chart.
 * Parameters: bins (24), cycles (3), ratio (4), minRun (6), minRunMs (30 min), minPeriodMs (12 h),
 * scaleAlpha (0.01), warm (50 points with a full envelope). Cost O(cycles) per point;
 * memory (cycles + 1)·(2·bins + 1) + 11 doubles per stream.
 */
import { BaseBank } from "./bank";

export interface SeasonBreakParams {
  bins: number;
  cycles: number;
  ratio: number;
  minRun: number;
  minRunMs: number;
  minPeriodMs: number;
  scaleAlpha: number;
  warm: number;
}

export const DEFAULT_SEASON_BREAK: SeasonBreakParams = {
  bins: 24,
  cycles: 3,
  ratio: 4,
  minRun: 6,
  minRunMs: 30 * 60_000,
  minPeriodMs: 12 * 3_600_000,
  scaleAlpha: 0.01,
  warm: 50,
};

type Cols = "P" | "cyc" | "bin" | "acc" | "accN" | "scale" | "n" | "run" | "runT0" | "runSum" | "means" | "rowCyc" | "accShort" | "shorts";

export class SeasonBreakBank extends BaseBank<Cols, SeasonBreakParams> {
  static readonly KIND = "season-break";
  static readonly VERSION = 1;
  readonly kind = SeasonBreakBank.KIND;
  private declare readonly rows: number;

  constructor(params: Partial<SeasonBreakParams> = {}, cap = 4) {
    const p = { ...DEFAULT_SEASON_BREAK, ...params };
    const rows = p.cycles + 1;
    super(
      p,
      { P: 1, cyc: 1, bin: 1, acc: 1, accN: 1, scale: 1, n: 1, run: 1, runT0: 1, runSum: 1, means: rows * p.bins, rowCyc: rows, accShort: 1, shorts: rows * p.bins },
      cap,
    );
    this.rows = rows;
  }

  protected init(i: number): void {
    this.clearHistory(i, 0);
  }

  private clearHistory(i: number, P: number): void {
    const c = this.soa.cols;
    const { bins } = this.params;
    const rows = this.rows;
    c.P[i] = P;
    c.cyc[i] = -1;
    c.bin[i] = -1;
    c.acc[i] = 0;
    c.accN[i] = 0;
    c.scale[i] = 0;
    c.n[i] = 0;
    c.run[i] = 0;
    c.runSum[i] = 0;
    c.means.fill(NaN, i * rows * bins, (i + 1) * rows * bins);
    c.shorts.fill(NaN, i * rows * bins, (i + 1) * rows * bins);
    c.rowCyc.fill(-1, i * rows, (i + 1) * rows);
    c.accShort[i] = NaN;
  }

  /** The season-break ratio of x at tMs (no learning). */
  score(i: number, x: number, tMs: number, periodMs = 0): number {
    const c = this.soa.cols;
    const strides = this.soa.strides;
    const keep = (Object.keys(c) as Cols[]).map((k) => [k, c[k].slice(i * strides[k], (i + 1) * strides[k])] as const);
    const r = this.update(i, x, tMs, periodMs);
    for (const [k, a] of keep) c[k].set(a, i * strides[k]);
    return r;
  }

  update(i: number, x: number, tMs: number, periodMs = 0): number {
    if (x !== x) return 0;
    const p = this.params;
    const c = this.soa.cols;
    if (!(periodMs >= p.minPeriodMs)) {
      if (c.P[i] !== 0) this.clearHistory(i, 0);
      return 0;
    }
    if (c.P[i] !== periodMs) this.clearHistory(i, periodMs);
    const cyc = Math.floor(tMs / periodMs);
    // (cycles index rows modulo cycles + 1: a time before 1970 has none)
    if (cyc < 0) return 0;
    const bin = this.binOf(tMs, cyc, periodMs);
    if (cyc !== c.cyc[i] || bin !== c.bin[i]) this.closeBin(i, cyc, bin);
    c.acc[i] = c.acc[i]! + x;
    c.accN[i] = c.accN[i]! + 1;
    return this.judge(i, x, tMs, cyc, bin);
  }

  /** Stores the finished bin's mean and opens (cyc, bin), clearing a cycle row it reuses. */
  private closeBin(i: number, cyc: number, bin: number): void {
    const c = this.soa.cols;
    const { bins } = this.params;
    const rows = this.rows;
    const oldCyc = c.cyc[i]!;
    if (oldCyc >= 0 && c.accN[i]! > 0) {
      const r = oldCyc % rows;
      if (c.rowCyc[i * rows + r] === oldCyc) {
        const at = (i * rows + r) * bins + c.bin[i]!;
        c.means[at] = c.acc[i]! / c.accN[i]!;
        c.shorts[at] = c.accShort[i]!;
      }
    }
    const r = cyc % rows;
    if (c.rowCyc[i * rows + r] !== cyc) {
      c.rowCyc[i * rows + r] = cyc;
      c.means.fill(NaN, (i * rows + r) * bins, (i * rows + r + 1) * bins);
      c.shorts.fill(NaN, (i * rows + r) * bins, (i * rows + r + 1) * bins);
    }
    c.accShort[i] = NaN;
    c.cyc[i] = cyc;
    c.bin[i] = bin;
    c.acc[i] = 0;
    c.accN[i] = 0;
  }

  private judge(i: number, x: number, tMs: number, cyc: number, bin: number): number {
    const p = this.params;
    const c = this.soa.cols;
    const { bins } = p;
    const rows = this.rows;
    let lo = Infinity;
    let hi = -Infinity;
    let centre = 0;
    for (let k = 1; k <= p.cycles; k++) {
      const r = (cyc - k) % rows;
      // every earlier cycle must have been seen at this time of day: an envelope from fewer days
      // is not the stream's pattern yet
      if (cyc - k < 0 || c.rowCyc[i * rows + r] !== cyc - k) return this.noRun(i);
      const row = (i * rows + r) * bins;
      const m = c.means[row + bin]!;
      if (m !== m) return this.noRun(i);
      centre += m;
      const a = c.means[row + (bin === 0 ? bins - 1 : bin - 1)]!;
      const b = c.means[row + (bin === bins - 1 ? 0 : bin + 1)]!;
      const mn = Math.min(m, a === a ? a : m, b === b ? b : m);
      const mx = Math.max(m, a === a ? a : m, b === b ? b : m);
      if (mn < lo) lo = mn;
      if (mx > hi) hi = mx;
    }
    centre /= p.cycles;
    const n = c.n[i]! + 1;
    c.n[i] = n;
    const scale = c.scale[i]!;
    const dev = x > centre ? x - centre : centre - x;
    const out = x < lo ? lo - x : x > hi ? x - hi : 0;
    if (n > p.warm && scale > 0 && out > p.ratio * scale) {
      const run = c.run[i]! + 1;
      if (run === 1) c.runT0[i] = tMs;
      c.run[i] = run;
      c.runSum[i] = c.runSum[i]! + out / scale;
      return run >= p.minRun && tMs - c.runT0[i]! >= p.minRunMs ? c.runSum[i]! / run / p.ratio : 0;
    }
    // warm-up: running mean of the deviation, then its EWMA
    c.scale[i] = n <= p.warm ? scale + (dev - scale) / n : scale + p.scaleAlpha * (dev - scale);
    return this.noRun(i);
  }

  /**
   * The level the score likelihood's recent mean of raw scores reached in this hour on every one
   * of the last `cycles` cycles: the minimum over those cycles of the hour's maximum. NaN without
   * a season, without all those cycles, or off the current hour (`update` places the point
   * first). A nightly batch job that lifts the raw scores for an hour every night sets this
   * hour's routine, and the likelihood judges that hour's scores against it.
   */
  routine(i: number, tMs: number): number {
    const c = this.soa.cols;
    if (!this.placed(i, tMs)) return NaN;
    const { bins } = this.params;
    const rows = this.rows;
    const cyc = c.cyc[i]!;
    const bin = c.bin[i]!;
    let lo = Infinity;
    for (let k = 1; k <= this.params.cycles; k++) {
      const r = (cyc - k) % rows;
      if (cyc - k < 0 || c.rowCyc[i * rows + r] !== cyc - k) return NaN;
      const v = c.shorts[(i * rows + r) * bins + bin]!;
      if (v !== v) return NaN;
      if (v < lo) lo = v;
    }
    return lo;
  }

  /** Records the current point's recent mean of raw scores into its hour (see `routine`). */
  noteRoutine(i: number, tMs: number, short: number): void {
    const c = this.soa.cols;
    if (!this.placed(i, tMs)) return;
    if (!(short <= c.accShort[i]!)) c.accShort[i] = short;
  }

  /** Whether `update` placed tMs: the open hour is tMs's (a point it skipped, e.g. stuck, is not). */
  private placed(i: number, tMs: number): boolean {
    const c = this.soa.cols;
    const P = c.P[i]!;
    if (P === 0) return false;
    const cyc = Math.floor(tMs / P);
    return cyc === c.cyc[i] && this.binOf(tMs, cyc, P) === c.bin[i];
  }

  /** The hour bin of tMs within its cycle `cyc` of period P. */
  private binOf(tMs: number, cyc: number, P: number): number {
    const bin = Math.floor(((tMs - cyc * P) / P) * this.params.bins);
    return bin >= this.params.bins ? this.params.bins - 1 : bin;
  }

  private noRun(i: number): number {
    const c = this.soa.cols;
    c.run[i] = 0;
    c.runSum[i] = 0;
    return 0;
  }

  static restore(state: unknown): SeasonBreakBank {
    return BaseBank.restoreAs(state, SeasonBreakBank.KIND, SeasonBreakBank.VERSION, DEFAULT_SEASON_BREAK, (p) => new SeasonBreakBank(p));
  }
}
