import type { NewSampleColumns } from "../../repos/storage/columns";
import type { CommittedBatch } from "@/lib/ingest/committed-batch";

/** Samples held at most (beyond it the oldest batches are dropped: the database has them). */
const MAX_HELD = 1_000_000;

/**
 * Committed batches waiting for the pipeline, by seq. `take(cursor)` returns the samples right
 * after the cursor only when held batches cover them without a hole; anything else (a batch
 * lost, a commit by another process, a rolled-back seq range) returns null and the pipeline
 * reads the database, which is always correct.
 */
export class HandoffQueue {
  private batches: CommittedBatch[] = [];
  private held = 0;
  private lastOfferMs = -Infinity;
  hits = 0;
  misses = 0;
  /** `take`'s seq column: reused (fresh memory is costly to touch), valid until the next take. */
  private seqScratch = new Float64Array(0);

  offer(b: CommittedBatch, nowMs = Date.now()): void {
    this.lastOfferMs = nowMs;
    const i = this.batches.findIndex((x) => x.firstSeq > b.firstSeq);
    if (i < 0) this.batches.push(b);
    else this.batches.splice(i, 0, b);
    this.held += b.streamIds.length;
    while (this.held > MAX_HELD && this.batches.length) this.held -= this.batches.shift()!.streamIds.length;
  }

  /** seq of the first held batch (after `take` dropped what the cursor passed), or null. */
  firstHeldSeq(): number | null {
    return this.batches[0]?.firstSeq ?? null;
  }

  /** Whether batches have been arriving lately (then an empty queue means "nothing new yet"). */
  active(nowMs = Date.now(), withinMs = 1_000): boolean {
    return nowMs - this.lastOfferMs < withinMs;
  }

  /**
   * The samples of the block rows right after `cursor`: whole rows, about `limit` samples (at
   * least one row). Views of held batches when one batch covers them; `seq` (each sample's row
   * seq) is valid until the next take.
   */
  take(cursor: number, limit: number): NewSampleColumns | null {
    // forget what the cursor has passed
    while (this.batches.length && lastSeqOf(this.batches[0]!) <= cursor) {
      this.held -= this.batches.shift()!.streamIds.length;
    }
    const parts: { b: CommittedBatch; fromRow: number; toRow: number }[] = [];
    let next = cursor + 1;
    let samples = 0;
    for (const b of this.batches) {
      if (samples >= limit || b.firstSeq > next) break;
      const fromRow = next - b.firstSeq; // ≥ 0: batches may overlap what an earlier read covered
      const rows = b.rowStart.length - 1;
      const base = b.rowStart[fromRow]!;
      let toRow = fromRow;
      // whole rows up to the limit, and at least one row in all
      while (toRow < rows && (samples + b.rowStart[toRow + 1]! - base <= limit || (samples === 0 && toRow === fromRow))) toRow++;
      if (toRow <= fromRow) continue;
      parts.push({ b, fromRow, toRow });
      samples += b.rowStart[toRow]! - b.rowStart[fromRow]!;
      next = b.firstSeq + toRow;
    }
    if (samples === 0) {
      if (this.batches.length) this.misses++;
      return null;
    }
    this.hits++;
    if (this.seqScratch.length < samples) this.seqScratch = new Float64Array(Math.max(samples, 2 * this.seqScratch.length));
    const seq = this.seqScratch.subarray(0, samples);
    let o = 0;
    for (const { b, fromRow, toRow } of parts) {
      for (let r = fromRow; r < toRow; r++) {
        const q = b.firstSeq + r;
        for (let i = b.rowStart[r]!; i < b.rowStart[r + 1]!; i++) seq[o++] = q;
      }
    }
    if (parts.length === 1) {
      // the usual case (one batch per round): views, not copies (held batches are never modified)
      const { b, fromRow, toRow } = parts[0]!;
      const from = b.rowStart[fromRow]!;
      const to = b.rowStart[toRow]!;
      return { rows: samples, lastSeq: next - 1, seq, streamIds: b.streamIds.subarray(from, to), tsMs: b.tsMs.subarray(from, to), values: b.values.subarray(from, to) };
    }
    const out: NewSampleColumns = { rows: samples, lastSeq: next - 1, seq, streamIds: new Int32Array(samples), tsMs: new Float64Array(samples), values: new Float64Array(samples) };
    o = 0;
    for (const { b, fromRow, toRow } of parts) {
      const from = b.rowStart[fromRow]!;
      const to = b.rowStart[toRow]!;
      out.streamIds.set(b.streamIds.subarray(from, to), o);
      out.tsMs.set(b.tsMs.subarray(from, to), o);
      out.values.set(b.values.subarray(from, to), o);
      o += to - from;
    }
    return out;
  }
}

const lastSeqOf = (b: CommittedBatch) => b.firstSeq + b.rowStart.length - 2;
