import type { NewSampleColumns, RollupColumns } from "../../repos/storage/columns";
import { DenseIds } from "@/lib/collections/dense-ids";
import { isSummable } from "@/lib/ingest/sample-bounds";
import { grownFloat64, grownInt32 } from "@/lib/collections/grow";

const MINUTE_MS = 60_000;
/** A stream's open minute is closed once the newest data is this far past the minute's end. */
const CLOSE_AFTER_MS = 2 * MINUTE_MS;

/** Growable rollup rows, column-wise (the completed rows waiting for the next flush). */
class RowColumns {
  rows = 0;
  streamIds = new Int32Array(256);
  bucketMs = new Float64Array(256);
  min = new Float64Array(256);
  max = new Float64Array(256);
  sum = new Float64Array(256);
  count = new Int32Array(256);

  push(streamId: number, bucketMs: number, min: number, max: number, sum: number, count: number): void {
    const k = this.rows;
    if (k === this.streamIds.length) this.grow(2 * k);
    this.streamIds[k] = streamId;
    this.bucketMs[k] = bucketMs;
    this.min[k] = min;
    this.max[k] = max;
    this.sum[k] = sum;
    this.count[k] = count;
    this.rows = k + 1;
  }

  private grow(cap: number): void {
    const f = (a: Float64Array) => grownFloat64(a, cap);
    const i = (a: Int32Array) => grownInt32(a, cap);
    this.streamIds = i(this.streamIds);
    this.bucketMs = f(this.bucketMs);
    this.min = f(this.min);
    this.max = f(this.max);
    this.sum = f(this.sum);
    this.count = i(this.count);
  }

  /** A copy of the rows (the caller writes it while new rows keep arriving); empties this. */
  take(): RollupColumns {
    const n = this.rows;
    this.rows = 0;
    return {
      rows: n,
      streamIds: this.streamIds.slice(0, n),
      bucketMs: this.bucketMs.slice(0, n),
      min: this.min.slice(0, n),
      max: this.max.slice(0, n),
      sum: this.sum.slice(0, n),
      count: this.count.slice(0, n),
    };
  }
}

/**
 * Folds the samples the pipeline reads into 1-minute rollup rows in memory, writing each
 * (stream, minute) about once, when the minute is complete, instead of re-reading every sample
 * from the database (the SQL rollup cost as much as ingest itself). Exactly once: samples at or
 * below the watermark are skipped; `flush()` hands out completed rows with the new watermark
 * (every sample ≤ it is in a handed-out row), which the caller writes in one transaction.
 *
 * Each stream's open minute lives in typed arrays at the stream's dense slot: folding a sample is
 * a table read and a few stores, with no object per (stream, minute).
 */
export class RollupBuffer {
  private readonly slots = new DenseIds();
  private cap = 0;
  private id = new Int32Array(0);
  /** open minute per slot (NaN: none) */
  private bucket = new Float64Array(0);
  private min = new Float64Array(0);
  private max = new Float64Array(0);
  private sum = new Float64Array(0);
  private count = new Float64Array(0);
  /** smallest seq folded into the open minute (bounds the watermark) */
  private minSeq = new Float64Array(0);
  private done = new RowColumns();
  private consumed: number;
  private newestMs = -Infinity;

  constructor(private watermark: number) {
    this.consumed = watermark;
  }

  add(c: NewSampleColumns): void {
    const { seq, streamIds, tsMs, values } = c;
    for (let i = 0; i < c.rows; i++) {
      const q = seq[i]!;
      if (q <= this.watermark) continue;
      const v = values[i]!;
      // NaN, ±Inf and huge values are stored but not rolled up: no sum can overflow (sample-bounds.ts)
      if (!isSummable(v)) continue;
      const id = streamIds[i]!;
      const t = tsMs[i]!;
      const bucketMs = Math.floor(t / MINUTE_MS) * MINUTE_MS;
      if (t > this.newestMs) this.newestMs = t;
      const s = this.slotOf(id);
      const ob = this.bucket[s]!;
      if (ob === bucketMs) {
        if (v < this.min[s]!) this.min[s] = v;
        if (v > this.max[s]!) this.max[s] = v;
        this.sum[s] = this.sum[s]! + v;
        this.count[s] = this.count[s]! + 1;
        if (q < this.minSeq[s]!) this.minSeq[s] = q;
      } else if (bucketMs < ob) {
        this.done.push(id, bucketMs, v, v, v, 1); // late sample: merged on write
      } else {
        if (ob === ob) this.close(s);
        this.bucket[s] = bucketMs;
        this.min[s] = v;
        this.max[s] = v;
        this.sum[s] = v;
        this.count[s] = 1;
        this.minSeq[s] = q;
      }
    }
    if (c.rows) this.consumed = Math.max(this.consumed, c.lastSeq);
  }

  private slotOf(id: number): number {
    const s = this.slots.slotOf(id);
    if (s >= this.cap) this.grow(Math.max(1024, 2 * this.cap));
    this.id[s] = id; // slots are never reused: a new one has no open minute (NaN from `grow`)
    return s;
  }

  private grow(cap: number): void {
    const f = (a: Float64Array, fill = 0) => {
      const b = new Float64Array(cap).fill(fill);
      b.set(a);
      return b;
    };
    const id = new Int32Array(cap);
    id.set(this.id);
    this.id = id;
    this.bucket = f(this.bucket, Number.NaN);
    this.min = f(this.min);
    this.max = f(this.max);
    this.sum = f(this.sum);
    this.count = f(this.count);
    this.minSeq = f(this.minSeq);
    this.cap = cap;
  }

  /** Moves slot `s`'s open minute to the completed rows. */
  private close(s: number): void {
    this.done.push(this.id[s]!, this.bucket[s]!, this.min[s]!, this.max[s]!, this.sum[s]!, this.count[s]!);
    this.bucket[s] = Number.NaN;
  }

  /** Completed rows and the watermark they bring the rollup to (call, write, then `commit`). */
  flush(): { rows: RollupColumns; watermark: number } {
    let openMin = Infinity;
    const n = this.slots.size;
    for (let s = 0; s < n; s++) {
      const b = this.bucket[s]!;
      if (b !== b) continue;
      if (b + MINUTE_MS + CLOSE_AFTER_MS <= this.newestMs) this.close(s);
      else if (this.minSeq[s]! < openMin) openMin = this.minSeq[s]!;
    }
    const rows = this.done.take();
    const watermark = Number.isFinite(openMin) ? Math.min(this.consumed, openMin - 1) : this.consumed;
    return { rows, watermark: Math.max(this.watermark, watermark) };
  }

  /** A failed write gives its rows back (they go out with the next flush). */
  requeue(rows: RollupColumns): void {
    for (let k = 0; k < rows.rows; k++) this.done.push(rows.streamIds[k]!, rows.bucketMs[k]!, rows.min[k]!, rows.max[k]!, rows.sum[k]!, rows.count[k]!);
  }

  /** Rows up to `watermark` are stored: later reads of those seqs are skipped. */
  commit(watermark: number): void {
    this.watermark = Math.max(this.watermark, watermark);
  }

  /** Everything still open (shutdown): rows and the watermark covering all consumed samples. */
  flushAll(): { rows: RollupColumns; watermark: number } {
    const n = this.slots.size;
    for (let s = 0; s < n; s++) if (this.bucket[s] === this.bucket[s]) this.close(s);
    return this.flush();
  }
}
