import { afterEach, describe, expect, it } from "vitest";
import type { CommittedBatch } from "../repos/storage/columns";
import { createHandoffClient, decodeBatch, encodeBatch, HandoffQueue, startHandoffServer, type HandoffClient } from "./handoff";

/** Two block rows of three samples, as a commit with firstSeq 41 writes them. */
const batch = (): CommittedBatch => ({
  firstSeq: 41,
  rowStart: Int32Array.from([0, 2, 3]),
  streamIds: Int32Array.from([7, 8, 9]),
  tsMs: Float64Array.from([1_700_000_000_000, 1_700_000_000_000, 1_700_000_010_000]),
  values: Float64Array.from([0.5, -1e300, 42]),
});

const plain = (b: CommittedBatch) => ({
  firstSeq: b.firstSeq,
  rowStart: [...b.rowStart],
  streamIds: [...b.streamIds],
  tsMs: [...b.tsMs],
  values: [...b.values],
});

async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function pair(endpointFor: (ep: { port: number; secret: string }) => { port: number; secret: string } | null = (ep) => ep) {
  const received: CommittedBatch[] = [];
  const server = await startHandoffServer((b) => received.push(b));
  const client: HandoffClient = createHandoffClient(async () => endpointFor(server.endpoint));
  cleanup.push(() => server.close(), () => client.close());
  return { received, server, client };
}

describe("commit hand-off over loopback HTTP", () => {
  it("delivers a committed batch from the client's sink to the worker's server intact", async () => {
    const { received, client } = await pair();
    void client.sink(batch());
    void client.sink({ ...batch(), firstSeq: 43 });
    await until(() => received.length === 2);
    expect(received.map(plain).sort((a, b) => a.firstSeq - b.firstSeq)).toEqual([plain(batch()), { ...plain(batch()), firstSeq: 43 }]);
  });

  it("the server refuses a client with the wrong secret; nothing is accepted", async () => {
    const { received, client } = await pair((ep) => ({ ...ep, secret: "not-the-secret" }));
    void client.sink(batch());
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toEqual([]);
  });

  it("sends nothing without a live worker or for an empty batch, and never throws", async () => {
    const none = await pair(() => null);
    void none.client.sink(batch());
    const empty = await pair();
    void empty.client.sink({ firstSeq: 1, rowStart: Int32Array.from([0]), streamIds: new Int32Array(0), tsMs: new Float64Array(0), values: new Float64Array(0) });
    await new Promise((r) => setTimeout(r, 300));
    expect(none.received).toEqual([]);
    expect(empty.received).toEqual([]);
  });

  it("a worker that went away costs the client nothing: the sink keeps returning at once", async () => {
    const { server, client } = await pair();
    await server.close();
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) void client.sink(batch());
    expect(performance.now() - t0).toBeLessThan(1_000);
    await new Promise((r) => setTimeout(r, 200));
  });
});

describe("web → worker commands on the hand-off endpoint", () => {
  it("hands a command to the worker and refuses what is not one", async () => {
    const got: unknown[] = [];
    const server = await startHandoffServer(
      () => undefined,
      () => [],
      (cmd) => got.push(cmd),
    );
    const client = createHandoffClient(async () => server.endpoint);
    cleanup.push(() => server.close(), () => client.close());
    await client.command({ kind: "request" });
    expect(got).toEqual([{ kind: "request" }]);
    const post = (body: string, secret = server.endpoint.secret) =>
      fetch(`http://127.0.0.1:${server.endpoint.port}/command`, { method: "POST", headers: { authorization: `Bearer ${secret}` }, body });
    expect((await post('{"kind":"reboot"}')).status).toBe(400);
    expect((await post("not json")).status).toBe(400);
    expect((await post('{"kind":"config"}', "wrong")).status).toBe(404);
    expect(got).toEqual([{ kind: "request" }]);
  });

  it("fails the command when no worker answers (the worker's poll picks the request up)", async () => {
    const client = createHandoffClient(async () => null);
    cleanup.push(() => client.close());
    await expect(client.command({ kind: "feedback" })).rejects.toThrow(/no live worker/);
  });
});

/** `n` block rows of one sample each (row r has seq firstSeq + r). */
const rowsBatch = (firstSeq: number, n: number): CommittedBatch => ({
  firstSeq,
  rowStart: Int32Array.from({ length: n + 1 }, (_, r) => r),
  streamIds: Int32Array.from({ length: n }, (_, i) => 100 + firstSeq + i),
  tsMs: Float64Array.from({ length: n }, (_, i) => 1_000 * (firstSeq + i)),
  values: Float64Array.from({ length: n }, (_, i) => (firstSeq + i) / 2),
});

describe("HandoffQueue", () => {
  it("wakes its reader once per offered batch, after the batch is held", () => {
    const held: (number | null)[] = [];
    const q: HandoffQueue = new HandoffQueue(() => held.push(q.firstHeldSeq()));
    q.offer(rowsBatch(4, 3));
    q.offer(rowsBatch(1, 3));
    expect(held).toEqual([4, 1]);
  });

  it("returns the samples right after the cursor across contiguous batches, up to the limit", () => {
    const q = new HandoffQueue();
    q.offer(rowsBatch(4, 3)); // out of order on purpose
    q.offer(rowsBatch(1, 3));
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
    q.offer(rowsBatch(1, 2));
    q.offer(rowsBatch(10, 2));
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
    q.offer(rowsBatch(5, 2), 1_000);
    expect(q.take(0, 10)).toBeNull(); // seqs 1…4 are a gap: read them from the database
    expect(q.firstHeldSeq()).toBe(5);
    expect(q.active(1_500)).toBe(true);
    expect(q.active(2_500)).toBe(false);
  });
});

describe("hand-off wire format", () => {
  it("round-trips a batch and refuses malformed bodies", () => {
    const b = rowsBatch(42, 5);
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
