/**
 * Variance-change detector: the short-term mean absolute forecast error against a slow scale.
 * Catches jitter (packet loss, a flapping link) where the level barely moves and the Tier-1
 * scales inflate within tens of points, so no single point stays rare.
 *
 * Per point (input e = the Holt-Winters one-step residual x − ŷ): u = min(|e| / σ_slow, `uCap`);
 * fast ← fast + `alpha`·(u − fast) (≈ 20-point memory); σ_slow is the EWMA of |e| with rate
 * `slowAlpha`, Huber-clipped at `uCap`·σ_slow and frozen while alarming. Under a steady noise
 * level fast ≈ 1; a variance ×k lifts it to ≈ k (clipped). The alarm bar is
 * max(`minRatio`, `ratio` × F̂) where F̂ is a slowly forgotten maximum of completed bursts of fast outside alarms
 * (the stream's own routine bursts). The clip bounds one blip's push to alpha·uCap. An alarm
 * lasting `adoptAfter` points adopts the new scale. Returns fast / bar when alarming, else 0.
 *
 * A scale-ratio chart in the spirit of the EWMA-S chart: S. V. Crowder & M. D. Hamilton, "An
 * EWMA for monitoring a process standard deviation", J. Quality Technology 24(1), 1992.
 * Parameters: alpha (0.1), slowAlpha (0.002), uCap (4), minRatio (3), ratio (1.25),
 * memory (20,000), warm (300 points), adoptAfter (240 points). Cost O(1), 6 doubles/stream.
 * Example: N(0,1) residuals for 3,000 points then N(0, 4²): alarm after ~35 points.
 */
import { BaseBank } from "./bank";

export interface VarianceShiftParams {
  alpha: number;
  slowAlpha: number;
  uCap: number;
  minRatio: number;
  ratio: number;
  memory: number;
  warm: number;
  adoptAfter: number;
}

export const DEFAULT_VARIANCE_SHIFT: VarianceShiftParams = {
  alpha: 0.1,
  slowAlpha: 0.002,
  uCap: 4,
  minRatio: 3,
  ratio: 1.25,
  memory: 20_000,
  warm: 300,
  adoptAfter: 240,
};

type Cols = "slow" | "fast" | "fmax" | "n" | "run" | "peak";

export class VarianceShiftBank extends BaseBank<Cols, VarianceShiftParams> {
  static readonly KIND = "variance-shift";
  static readonly VERSION = 1;
  readonly kind = VarianceShiftBank.KIND;
  private declare readonly decay: number;

  constructor(params: Partial<VarianceShiftParams> = {}, cap = 4) {
    super({ ...DEFAULT_VARIANCE_SHIFT, ...params }, { slow: 1, fast: 1, fmax: 1, n: 1, run: 1, peak: 1 }, cap);
    this.decay = 1 - 1 / this.params.memory;
  }

  protected init(i: number): void {
    this.soa.cols.fast[i] = 1;
  }

  score(i: number, e: number, _tMs?: number): number {
    if (e !== e) return 0;
    const c = this.soa.cols;
    const cols = [c.slow, c.fast, c.fmax, c.n, c.run, c.peak];
    const keep = cols.map((a) => a[i]!);
    const r = this.update(i, e);
    cols.forEach((a, k) => (a[i] = keep[k]!));
    return r;
  }

  update(i: number, e: number, _tMs?: number): number {
    if (e !== e) return 0;
    const c = this.soa.cols;
    const p = this.params;
    const n = c.n[i]!;
    const a = e < 0 ? -e : e;
    c.n[i] = n + 1;
    if (n < 30) {
      // warm-up: plain running mean of |e|
      c.slow[i] = c.slow[i]! + (a - c.slow[i]!) / (n + 1);
      return 0;
    }
    const slow = c.slow[i]! > 1e-12 ? c.slow[i]! : 1e-12;
    let u = a / slow;
    if (u > p.uCap) u = p.uCap;
    const fast = c.fast[i]! + p.alpha * (u - c.fast[i]!);
    c.fast[i] = fast;
    const fmax = c.fmax[i]!;
    const bar = p.ratio * fmax > p.minRatio ? p.ratio * fmax : p.minRatio;
    if (n >= p.warm && fast >= bar) {
      const run = c.run[i]! + 1;
      if (run >= p.adoptAfter) {
        // persistent: the new noise level is normal now
        c.slow[i] = slow * fast;
        c.fast[i] = 1;
        c.run[i] = 0;
        return 0;
      }
      c.run[i] = run;
      return fast / bar;
    }
    c.run[i] = 0;
    c.slow[i] = slow + p.slowAlpha * (u * slow - slow);
    // F̂ learns completed bursts only (a rising one must not lift its own bar)
    if (n >= p.warm) {
      let kept = fmax * this.decay;
      if (fast > c.peak[i]!) c.peak[i] = fast;
      else if (fast < 0.7 * c.peak[i]! && c.peak[i]! > 0) {
        if (c.peak[i]! > kept) kept = c.peak[i]!;
        c.peak[i] = 0;
      }
      c.fmax[i] = kept;
    }
    return 0;
  }

  static restore(state: unknown): VarianceShiftBank {
    return BaseBank.restoreAs(state, VarianceShiftBank.KIND, VarianceShiftBank.VERSION, DEFAULT_VARIANCE_SHIFT, (p) => new VarianceShiftBank(p));
  }
}
