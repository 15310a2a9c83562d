import { afterEach, describe, expect, it } from "vitest";
import type { CommittedBatch } from "@/lib/ingest/committed-batch";
import { createHandoffClient, type HandoffClient } from "./client";
import { startHandoffServer } from "./server";

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
