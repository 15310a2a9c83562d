/**
 * Flat-line ("stuck value") detector: a normally changing stream that repeats the exact same
 * value for far longer than it ever did before — a frozen exporter, a stuck sensor, a cached
 * gauge. Residual-based detectors miss it when the frozen value sits near the expected level.
 *
 * Per present value: run = length of the current run of identical values; when a run ends,
 * longest = max(run, longest · decay^run) (a slowly forgotten longest run, `memory` points);
 * change = EWMA of [x ≠ previous x] (α = 0.01). Stuck when the stream usually changes
 * (change ≥ `minChange`), has `minObs` observations, and run ≥ max(`minRun`, `factor` × longest).
 * Integer-valued or low-resolution streams (counts that sit at 0, a percentage that rests at
 * 100) have long routine runs and therefore a high bar. Returns run / bar when stuck, else 0.
 *
 * Parameters: minRun (10), factor (3), minChange (0.5), minObs (300), memory (20,000).
 * Cost O(1), 5 doubles per stream. Cf. the "flat-line" / "stuck-at" sensor faults of
 * A. B. Sharma, L. Golubchik & R. Govindan, "Sensor faults: detection methods and prevalence in
 * real-world datasets", ACM TOSN 6(3), 2010 (constant-value faults).
 * Example: N(0,1) noise (runs of 1) then the same value 10 times: the 10th repeat reports 1.
 */
import { BaseBank } from "./bank";

export interface FlatlineParams {
  minRun: number;
  factor: number;
  minChange: number;
  minObs: number;
  memory: number;
}

export const DEFAULT_FLATLINE: FlatlineParams = { minRun: 10, factor: 3, minChange: 0.5, minObs: 300, memory: 20_000 };

type Cols = "last" | "run" | "longest" | "change" | "n";

export class FlatlineBank extends BaseBank<Cols, FlatlineParams> {
  static readonly KIND = "flatline";
  static readonly VERSION = 1;
  readonly kind = FlatlineBank.KIND;
  private declare readonly logDecay: number;
  /** The last run length `update` forgot over and its factor exp(logDecay·run) (a cache, not state). */
  private keptRun = Number.NaN;
  private keptFactor = Number.NaN;

  constructor(params: Partial<FlatlineParams> = {}, cap = 4) {
    super({ ...DEFAULT_FLATLINE, ...params }, { last: 1, run: 1, longest: 1, change: 1, n: 1 }, cap);
    this.logDecay = Math.log(1 - 1 / this.params.memory);
  }

  protected init(_i: number): void {}

  /** Length of the current run of identical values. */
  run(i: number): number {
    return this.soa.cols.run[i]!;
  }

  score(i: number, x: number, _tMs?: number): number {
    if (x !== x) return 0;
    const c = this.soa.cols;
    if (c.n[i]! === 0) return 0;
    return this.judge(i, x === c.last[i]! ? c.run[i]! + 1 : 1);
  }

  /**
   * Whether the current run reached its bar within the last `points` values: the onset of a
   * stuck stretch (the bar stays put during a run, `longest` changes only when a run ends).
   */
  onset(i: number, points: number): boolean {
    const c = this.soa.cols;
    const p = this.params;
    const bar = p.factor * c.longest[i]! > p.minRun ? p.factor * c.longest[i]! : p.minRun;
    return c.run[i]! - Math.ceil(bar) < points;
  }

  private judge(i: number, run: number): number {
    const c = this.soa.cols;
    const p = this.params;
    if (c.n[i]! < p.minObs || c.change[i]! < p.minChange) return 0;
    const bar = p.factor * c.longest[i]! > p.minRun ? p.factor * c.longest[i]! : p.minRun;
    return run >= bar ? run / bar : 0;
  }

  update(i: number, x: number, _tMs?: number): number {
    if (x !== x) return 0;
    const c = this.soa.cols;
    const n = c.n[i]!;
    if (n === 0) {
      c.last[i] = x;
      c.run[i] = 1;
      // "usually changes" must be shown, not assumed: a stream that sits at one value from its
      // first point (a zero-inflated error count) never earns the stuck judgement
      c.change[i] = 0;
      c.n[i] = 1;
      return 0;
    }
    const same = x === c.last[i]!;
    const out = this.judge(i, same ? c.run[i]! + 1 : 1);
    if (same) c.run[i] = c.run[i]! + 1;
    else {
      const run = c.run[i]!;
      // (runs are mostly 1 on a changing stream: the last run length's factor is reused)
      if (run !== this.keptRun) {
        this.keptRun = run;
        this.keptFactor = Math.exp(this.logDecay * run);
      }
      const kept = c.longest[i]! * this.keptFactor;
      c.longest[i] = run > kept ? run : kept;
      c.run[i] = 1;
      c.last[i] = x;
    }
    // a long run does not teach "this stream never changes" (the judgement would fade mid-run)
    if (!same || c.run[i]! < this.params.minRun) c.change[i] = c.change[i]! + 0.01 * ((same ? 0 : 1) - c.change[i]!);
    c.n[i] = n + 1;
    return out;
  }

  static restore(state: unknown): FlatlineBank {
    return BaseBank.restoreAs(state, FlatlineBank.KIND, FlatlineBank.VERSION, DEFAULT_FLATLINE, (p) => new FlatlineBank(p));
  }
}
