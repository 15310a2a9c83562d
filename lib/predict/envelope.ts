/**
 * The range a stream has kept recently, strictly causally: per-hour minima and maxima over the
 * last `buckets` hours (a week by default), the envelope being the second-lowest minimum and the
 * second-highest maximum (one odd hour does not widen it). Only completed hours count, so a value
 * never widens the envelope it is judged against. Mirrors the worker's weekly envelope (quantiles
 * of per-minute extremes, `predictions-repo.ts`) for tables scored offline.
 * Cost: O(streams) per row, O(streams·buckets) once an hour.
 */
export interface EnvelopeOptions {
  bucketMs?: number;
  buckets?: number;
  /** Completed buckets needed before an envelope is given. */
  minBuckets?: number;
}

export class EnvelopeTracker {
  private readonly bucketMs: number;
  private readonly nb: number;
  private readonly minBuckets: number;
  private readonly mins: Float64Array;
  private readonly maxs: Float64Array;
  private readonly lowC: Float64Array;
  private readonly highC: Float64Array;
  private curBucket = Number.NaN;
  private slot = -1;

  constructor(
    readonly streams: number,
    opts: EnvelopeOptions = {},
  ) {
    this.bucketMs = opts.bucketMs ?? 3_600_000;
    this.nb = opts.buckets ?? 168;
    this.minBuckets = opts.minBuckets ?? 6;
    this.mins = new Float64Array(streams * this.nb).fill(Infinity);
    this.maxs = new Float64Array(streams * this.nb).fill(-Infinity);
    this.lowC = new Float64Array(streams).fill(Number.NaN);
    this.highC = new Float64Array(streams).fill(Number.NaN);
  }

  observe(tsMs: number, values: ArrayLike<number>): void {
    const b = Math.floor(tsMs / this.bucketMs);
    if (this.slot < 0) {
      this.slot = 0;
      this.curBucket = b;
    } else if (b > this.curBucket) {
      // hours skipped by a gap are empty and push older hours out of the window; the envelope is
      // then that of the hours up to the one that just ended; the new hour starts empty
      const skipped = Math.min(this.nb, b - this.curBucket - 1);
      for (let s = 0; s < skipped; s++) this.advance();
      this.refresh();
      this.advance();
      this.curBucket = b;
    }
    const o = this.slot;
    for (let i = 0; i < this.streams; i++) {
      const x = values[i]!;
      if (x !== x) continue;
      const k = i * this.nb + o;
      if (x < this.mins[k]!) this.mins[k] = x;
      if (x > this.maxs[k]!) this.maxs[k] = x;
    }
  }

  private advance(): void {
    this.slot = (this.slot + 1) % this.nb;
    for (let i = 0; i < this.streams; i++) {
      this.mins[i * this.nb + this.slot] = Infinity;
      this.maxs[i * this.nb + this.slot] = -Infinity;
    }
  }

  private refresh(): void {
    for (let i = 0; i < this.streams; i++) {
      let lo1 = Infinity;
      let lo2 = Infinity;
      let hi1 = -Infinity;
      let hi2 = -Infinity;
      let filled = 0;
      for (let s = 0; s < this.nb; s++) {
        const k = i * this.nb + s;
        const mn = this.mins[k]!;
        const mx = this.maxs[k]!;
        if (mn === Infinity) continue;
        filled++;
        if (mn < lo1) [lo1, lo2] = [mn, lo1];
        else if (mn < lo2) lo2 = mn;
        if (mx > hi1) [hi1, hi2] = [mx, hi1];
        else if (mx > hi2) hi2 = mx;
      }
      const ok = filled >= this.minBuckets;
      // with a single hour there is no second extreme: that hour's own range
      this.lowC[i] = ok ? (lo2 === Infinity ? lo1 : lo2) : Number.NaN;
      this.highC[i] = ok ? (hi2 === -Infinity ? hi1 : hi2) : Number.NaN;
    }
  }

  /** The envelope of stream i, or null before `minBuckets` hours were seen. */
  envelope(i: number): { low: number; high: number } | null {
    const low = this.lowC[i]!;
    const high = this.highC[i]!;
    return low === low && high === high ? { low, high } : null;
  }
}
