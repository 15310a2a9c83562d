import { describe, expect, it } from "vitest";
import type { CommittedBatch } from "@/lib/ingest/committed-batch";
import { decodeBatch, encodeBatch } from "../handoff/protocol";
import { HandoffQueue } from "./handoff-queue";

/** `n` block rows of one sample each (row r has seq firstSeq + r). */
const batch = (firstSeq: number, n: number): CommittedBatch => ({
  firstSeq,
  rowStart: Int32Array.from({ length: n + 1 }, (_, r) => r),
  streamIds: Int32Array.from({ length: n }, (_, i) => 100 + firstSeq + i),
  tsMs: Float64Array.from({ length: n }, (_, i) => 1_000 * (firstSeq + i)),
  values: Float64Array.from({ length: n }, (_, i) => (firstSeq + i) / 2),
});

describe("HandoffQueue", () => {
  it("returns the samples right after the cursor across contiguous batches, up to the limit", () => {
    const q = new HandoffQueue();
    q.offer(batch(4, 3)); // out of order on purpose
    q.offer(batch(1, 3));
    const a = q.take(0, 5)!;
    expect(a.rows).toBe(5);
    expect(Array.from(a.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(a.streamIds)).toEqual([101, 102, 103, 104, 105]);
    expect(a.lastSeq).toBe(5);
    const b = q.take(5, 100)!;
    expect(Array.from(b.seq)).toEqual([6]);
    expect(Array.from(b.values)).toEqual([3]);
    expect(q.take(6, 100)).toBeNull();
  });

  it("returns null at a hole (a batch that never arrived) and drops what the cursor passed", () => {
    const q = new HandoffQueue();
    q.offer(batch(1, 2));
    q.offer(batch(10, 2));
    expect(q.take(0, 100)!.rows).toBe(2);
    expect(q.take(2, 100)).toBeNull(); // seqs 3…9 must come from the database
    // a database read moved the cursor into the middle of the held batch
    const rest = q.take(10, 100)!;
    expect(Array.from(rest.seq)).toEqual([11]);
  });

  it("hands out whole block rows, each sample with its row's seq", () => {
    const q = new HandoffQueue();
    // rows 7, 8, 9 with 3, 1 and 2 samples
    q.offer({ firstSeq: 7, rowStart: Int32Array.from([0, 3, 4, 6]), streamIds: Int32Array.from([1, 2, 3, 5, 1, 2]), tsMs: Float64Array.from([10, 10, 10, 10, 20, 20]), values: Float64Array.from([1, 2, 3, 4, 5, 6]) });
    const a = q.take(6, 2)!; // the first row alone is over the limit: it comes whole
    expect(Array.from(a.seq)).toEqual([7, 7, 7]);
    expect(Array.from(a.streamIds)).toEqual([1, 2, 3]);
    expect(a.lastSeq).toBe(7);
    const b = q.take(7, 3)!; // rows 8 and 9 fit exactly
    expect(Array.from(b.seq)).toEqual([8, 9, 9]);
    expect(Array.from(b.values)).toEqual([4, 5, 6]);
    expect(b.lastSeq).toBe(9);
    expect(q.take(9, 10)).toBeNull();
  });

  it("tells where the held batches start and whether hand-offs are arriving", () => {
    const q = new HandoffQueue();
    expect(q.firstHeldSeq()).toBeNull();
    expect(q.active(1_000)).toBe(false);
    q.offer(batch(5, 2), 1_000);
    expect(q.take(0, 10)).toBeNull(); // seqs 1…4 are a gap: read them from the database
    expect(q.firstHeldSeq()).toBe(5);
    expect(q.active(1_500)).toBe(true);
    expect(q.active(2_500)).toBe(false);
  });
});

describe("hand-off wire format", () => {
  it("round-trips a batch and refuses malformed bodies", () => {
    const b = batch(42, 5);
    const back = decodeBatch(Buffer.concat([Buffer.alloc(3), encodeBatch(b)]).subarray(3))!; // unaligned on purpose
    expect(back.firstSeq).toBe(42);
    expect(Array.from(back.streamIds)).toEqual(Array.from(b.streamIds));
    expect(Array.from(back.tsMs)).toEqual(Array.from(b.tsMs));
    expect(Array.from(back.values)).toEqual(Array.from(b.values));
    expect(Array.from(back.rowStart)).toEqual(Array.from(b.rowStart));
    // an aligned body (a fresh buffer) is viewed, not copied
    const raw = encodeBatch(b);
    const mem = new ArrayBuffer(raw.length);
    Buffer.from(mem).set(raw);
    const viewed = decodeBatch(Buffer.from(mem))!;
    expect(viewed.tsMs.buffer).toBe(mem);
    expect(Array.from(viewed.streamIds)).toEqual(Array.from(b.streamIds));
    expect(Array.from(viewed.values)).toEqual(Array.from(b.values));
    expect(back.tsMs.buffer).not.toBe(mem);
    expect(decodeBatch(encodeBatch(b).subarray(0, 30))).toBeNull();
    expect(decodeBatch(Buffer.alloc(4))).toBeNull();
    // row boundaries that do not cover the samples exactly
    const bad = encodeBatch({ ...b, rowStart: Int32Array.from([0, 2, 2, 5]) });
    expect(decodeBatch(bad)).toBeNull();
  });
});
