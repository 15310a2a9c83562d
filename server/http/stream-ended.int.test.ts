import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeWriteRequest } from "@/lib/ingest/remote-write";
import { startOmenServer, type OmenServer } from "../testing/omen-server";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";

/**
 * "Ended" in the streams API (issue 14): a Prometheus staleness marker sent over HTTP to the
 * running web app marks the stream ended; the read API and the tRPC queries the overview and the
 * stream page use give its `endedAtMs`, and a newer sample, once the real worker has scored it,
 * revives the stream (null again).
 */
const STALE = new Float64Array(new Uint32Array([2, 0x7ff00000]).buffer)[0]!;
const STEP = 10_000;

let tdb: TestDatabase;
let omen: OmenServer;
let cookie = "";

async function remoteWrite(metric: string, samples: { timestamp: number; value: number }[]): Promise<void> {
  // snappy-compressed WriteRequest bytes, as Prometheus sends them
  const body = encodeWriteRequest({ timeseries: [{ labels: [{ name: "__name__", value: metric }, { name: "job", value: "ended-api" }], samples }] });
  const res = await fetch(`${omen.url}/api/v1/write`, {
    method: "POST",
    headers: { authorization: `Bearer ${omen.token}`, "content-type": "application/x-protobuf", "content-encoding": "snappy" },
    body: Buffer.from(body),
  });
  expect(res.status, await res.clone().text()).toBe(204);
}

type ApiStream = { id: number; key: string; endedAtMs: number | null; lastSampleAtMs: number | null };

async function fromReadApi(metric: string): Promise<ApiStream> {
  const res = await fetch(`${omen.url}/api/v1/streams?search=${metric}`, { headers: { authorization: `Bearer ${omen.readToken}` } });
  const body = (await res.json()) as { streams: ApiStream[] };
  expect(body.streams).toHaveLength(1);
  return body.streams[0]!;
}

async function trpcQuery<T>(name: string, input: unknown): Promise<T> {
  const res = await fetch(`${omen.url}/api/trpc/${name}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, { headers: { cookie } });
  const body = (await res.json()) as { result?: { data: { json: T } } };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.result!.data.json;
}

describe("ended streams in the streams API", () => {
  beforeAll(async () => {
    tdb = await createTestDatabase("postgres");
    omen = await startOmenServer({ databaseUrl: tdb.url, worker: true });
    cookie = await omen.signIn();
  });
  afterAll(async () => {
    await omen?.stop();
    await tdb?.drop();
  });

  it("gives endedAtMs after a staleness marker, and null once a newer sample revives the stream", async () => {
    const t0 = Math.floor(Date.now() / STEP) * STEP - 60 * STEP;
    await remoteWrite("ended_api_gauge", Array.from({ length: 30 }, (_, i) => ({ timestamp: t0 + i * STEP, value: 10 + (i % 3) })));
    const live = await fromReadApi("ended_api_gauge");
    expect(live.endedAtMs).toBeNull();

    const markerAt = t0 + 30 * STEP;
    await remoteWrite("ended_api_gauge", [{ timestamp: markerAt, value: STALE }]);
    expect((await fromReadApi("ended_api_gauge")).endedAtMs).toBe(markerAt);
    const listed = await trpcQuery<ApiStream[]>("streams.list", { search: "ended_api_gauge" });
    expect(listed.map((s) => s.endedAtMs)).toEqual([markerAt]);
    const detail = await trpcQuery<{ stream: ApiStream }>("streams.detail", { id: live.id });
    expect(detail.stream.endedAtMs).toBe(markerAt);

    // the series comes back: the worker scores the new sample and the stream is no longer ended
    await remoteWrite("ended_api_gauge", [{ timestamp: markerAt + 2 * STEP, value: 11 }]);
    await expect.poll(async () => (await fromReadApi("ended_api_gauge")).endedAtMs, { timeout: 30_000, interval: 250 }).toBeNull();
    expect((await fromReadApi("ended_api_gauge")).lastSampleAtMs).toBe(markerAt + 2 * STEP);
    const revived = await trpcQuery<{ stream: ApiStream }>("streams.detail", { id: live.id });
    expect(revived.stream.endedAtMs).toBeNull();
  });
});
