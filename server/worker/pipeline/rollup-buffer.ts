import type { NewSampleColumns, RollupRow } from "../../repos/samples-repo";

const MINUTE_MS = 60_000;
/** A stream's open minute is closed once the newest data is this far past the minute's end. */
const CLOSE_AFTER_MS = 2 * MINUTE_MS;

interface OpenMinute extends RollupRow {
  /** smallest seq folded into this minute (bounds the watermark) */
  minSeq: number;
}

/**
 * Folds the samples the pipeline reads into 1-minute rollup rows in memory, writing each
 * (stream, minute) about once, when the minute is complete, instead of re-reading every sample
 * from the database (the SQL rollup cost as much as ingest itself). Exactly once: samples at or
 * below the watermark are skipped; `flush()` hands out completed rows with the new watermark
 * (every sample ≤ it is in a handed-out row), which the caller writes in one transaction.
 */
export class RollupBuffer {
  private open = new Map<number, OpenMinute>();
  private done: RollupRow[] = [];
  private consumed: number;
  private newestMs = -Infinity;

  constructor(private watermark: number) {
    this.consumed = watermark;
  }

  add(c: NewSampleColumns): void {
    for (let i = 0; i < c.rows; i++) {
      const seq = c.seq[i]!;
      if (seq <= this.watermark) continue;
      const id = c.streamIds[i]!;
      const t = c.tsMs[i]!;
      const v = c.values[i]!;
      const bucketMs = Math.floor(t / MINUTE_MS) * MINUTE_MS;
      if (t > this.newestMs) this.newestMs = t;
      const o = this.open.get(id);
      if (o && o.bucketMs === bucketMs) {
        if (v < o.min) o.min = v;
        if (v > o.max) o.max = v;
        o.sum += v;
        o.count++;
        if (seq < o.minSeq) o.minSeq = seq;
      } else if (o && bucketMs < o.bucketMs) {
        this.done.push({ streamId: id, bucketMs, min: v, max: v, sum: v, count: 1 }); // late sample: merged on write
      } else {
        if (o) this.done.push(o);
        this.open.set(id, { streamId: id, bucketMs, min: v, max: v, sum: v, count: 1, minSeq: seq });
      }
    }
    if (c.rows) this.consumed = Math.max(this.consumed, c.lastSeq);
  }

  /** Completed rows and the watermark they bring the rollup to (call, write, then `commit`). */
  flush(): { rows: RollupRow[]; watermark: number } {
    let openMin = Infinity;
    for (const [id, o] of this.open) {
      if (o.bucketMs + MINUTE_MS + CLOSE_AFTER_MS <= this.newestMs) {
        this.done.push(o);
        this.open.delete(id);
      } else if (o.minSeq < openMin) openMin = o.minSeq;
    }
    const rows = this.done.map(({ streamId, bucketMs, min, max, sum, count }) => ({ streamId, bucketMs, min, max, sum, count }));
    this.done = [];
    const watermark = Number.isFinite(openMin) ? Math.min(this.consumed, openMin - 1) : this.consumed;
    return { rows, watermark: Math.max(this.watermark, watermark) };
  }

  /** A failed write gives its rows back (they go out with the next flush). */
  requeue(rows: RollupRow[]): void {
    this.done.push(...rows);
  }

  /** Rows up to `watermark` are stored: later reads of those seqs are skipped. */
  commit(watermark: number): void {
    this.watermark = Math.max(this.watermark, watermark);
  }

  /** Everything still open (shutdown): rows and the watermark covering all consumed samples. */
  flushAll(): { rows: RollupRow[]; watermark: number } {
    for (const o of this.open.values()) this.done.push(o);
    this.open.clear();
    return this.flush();
  }
}
