import type { NewSampleColumns } from "../../repos/samples-repo";
import type { CommittedBatch } from "../../services/ingest/commit-handoff";

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

  /** The samples right after `cursor` (views of held batches; `seq` is valid until the next take). */
  take(cursor: number, limit: number): NewSampleColumns | null {
    // forget what the cursor has passed
    while (this.batches.length && this.batches[0]!.firstSeq + this.batches[0]!.streamIds.length - 1 <= cursor) {
      this.held -= this.batches.shift()!.streamIds.length;
    }
    const parts: { b: CommittedBatch; from: number; to: number }[] = [];
    let next = cursor + 1;
    let rows = 0;
    for (const b of this.batches) {
      if (rows >= limit || b.firstSeq > next) break;
      const from = next - b.firstSeq; // ≥ 0: batches may overlap what an earlier read covered
      const to = Math.min(b.streamIds.length, from + (limit - rows));
      if (to <= from) continue;
      parts.push({ b, from, to });
      rows += to - from;
      next = b.firstSeq + to;
    }
    if (rows === 0) {
      if (this.batches.length) this.misses++;
      return null;
    }
    this.hits++;
    if (this.seqScratch.length < rows) this.seqScratch = new Float64Array(Math.max(rows, 2 * this.seqScratch.length));
    const seq = this.seqScratch.subarray(0, rows);
    if (parts.length === 1) {
      // the usual case (one batch per round): views, not copies (held batches are never modified)
      const { b, from, to } = parts[0]!;
      for (let k = from; k < to; k++) seq[k - from] = b.firstSeq + k;
      return { rows, lastSeq: next - 1, seq, streamIds: b.streamIds.subarray(from, to), tsMs: b.tsMs.subarray(from, to), values: b.values.subarray(from, to) };
    }
    const out: NewSampleColumns = { rows, lastSeq: next - 1, seq, streamIds: new Int32Array(rows), tsMs: new Float64Array(rows), values: new Float64Array(rows) };
    let o = 0;
    for (const { b, from, to } of parts) {
      out.streamIds.set(b.streamIds.subarray(from, to), o);
      out.tsMs.set(b.tsMs.subarray(from, to), o);
      out.values.set(b.values.subarray(from, to), o);
      for (let k = from; k < to; k++) out.seq[o + k - from] = b.firstSeq + k;
      o += to - from;
    }
    return out;
  }
}
