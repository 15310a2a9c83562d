import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countSamples } from "../../repos/storage/samples";
import { countScores } from "../../repos/storage/scores";
import { listSnapshots, loadSnapshot } from "../../repos/snapshots-repo";
import { listStreams } from "../../repos/streams-repo";
import { createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { startOmenServer, type OmenServer } from "../../testing/omen-server";
import { saveScopeSettings } from "../config/config-service";
import { requestSnapshot } from "../models/model-service";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";

async function until<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A snapshot taken by the live worker at our request, as raw engine state. */
async function workerState(after: number): Promise<{ id: number; state: Buffer }> {
  await requestSnapshot("detect-test");
  const snap = await until(async () => (await listSnapshots()).find((s) => s.reason === "manual" && s.id > after));
  const full = await loadSnapshot(snap.id);
  return { id: snap.id, state: zlib.gunzipSync(full!.state) };
}

describe("POST /api/v1/detect against the live worker", () => {
  let tdb: TestDatabase;
  let omen: OmenServer;
  const step = 10_000;
  // times relative to now: the worker's clock domain follows the data
  const t0 = Math.floor(Date.now() / step) * step - 1500 * step;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    omen = await startOmenServer({ databaseUrl: tdb.url, worker: true });
    const rows = ["timestamp,db_latency_ms,api_latency_ms,queue_depth"];
    for (let i = 0; i < 1500; i++) rows.push(`${new Date(t0 + i * step).toISOString()},${20 + 2 * noise(i, 1)},${100 + 5 * noise(i, 2)},${40 + 3 * noise(i, 3)}`);
    const res = await fetch(`${omen.url}/api/v1/import/csv?source=shop`, {
      method: "POST",
      headers: { authorization: `Bearer ${omen.token}`, "content-type": "text/csv" },
      body: rows.join("\n"),
    });
    expect(res.status).toBe(200);
    await until(async () => (await countSamples()) === 4500 && (await countScores()) === 4500);
  }, 240_000);
  afterAll(async () => {
    await omen?.stop();
    await tdb?.drop();
  });

  const detect = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${omen.url}/api/v1/detect`, {
      method: "POST",
      headers: { authorization: `Bearer ${omen.readToken}`, "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  it("scores current values with the live models and leaves them unchanged", async () => {
    const streams = await listStreams();
    const id = (m: string) => streams.find((s) => s.metric === m)!.id;
    const before = await workerState(0);
    const now = t0 + 1500 * step;
    const res = await detect({
      timestamp: now,
      streams: [
        { key: "db_latency_ms", source: "shop", value: 400 },
        { id: id("api_latency_ms"), value: 900 },
        { id: id("queue_depth"), value: 40.5 },
        { key: "no_such_stream", value: 1 },
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { scoredAtMs: number; results: { id: number | null; key: string; status: string; score: number; severity: string | null; isAnomaly: boolean; type: string | null; causes: string[] }[] };
    const [db, api, queue, unknown] = body.results;
    expect(db).toMatchObject({ id: id("db_latency_ms"), status: "ok", isAnomaly: true });
    expect(db!.score).toBeGreaterThan(60);
    expect(db!.severity).not.toBeNull();
    expect(db!.type).toBe("point");
    expect(api!.isAnomaly).toBe(true);
    expect(queue).toMatchObject({ status: "ok", isAnomaly: false, causes: [] });
    expect(queue!.score).toBeLessThan(60);
    expect(unknown).toMatchObject({ status: "unknown_stream", score: null, isAnomaly: false });
    // both anomalous streams are named as causes (the calm queue is not), ranked as the CLI ranks them
    expect(new Set(db!.causes)).toEqual(new Set(["db_latency_ms", "api_latency_ms"]));
    expect(db!.causes).toEqual(api!.causes);

    // the same request again gives the same answer: nothing was learnt from the first
    for (let k = 0; k < 5; k++) expect(((await (await detect({ timestamp: now, streams: [{ key: "db_latency_ms", value: 400 }] })).json()) as typeof body).results[0]!.score).toBe(db!.score);
    const after = await workerState(before.id);
    expect(after.state.equals(before.state)).toBe(true);
  }, 120_000);

  it("reports the band width the worker is configured with", async () => {
    type Result = { score: number; expected: number; lower: number; upper: number; causes: string[] };
    const now = t0 + 1500 * step;
    const body = { timestamp: now, streams: [{ key: "db_latency_ms", value: 400 }, { key: "api_latency_ms", value: 900 }, { key: "queue_depth", value: 40.5 }] };
    const results = async () => ((await (await detect(body)).json()) as { results: Result[] }).results;
    const before = await results();
    const global = { scope: "global" as const, ref: "" };
    await saveScopeSettings({ target: global, settings: { bandSigmas: 6 }, author: "detect-test" });
    try {
      // the worker applies saved settings within its reload interval
      const after = await until(async () => {
        const r = await results();
        return r[0]!.upper - r[0]!.expected > 1.5 * (before[0]!.upper - before[0]!.expected) && r;
      }, 30_000);
      for (let k = 0; k < before.length; k++) {
        const [b, a] = [before[k]!, after[k]!];
        expect(a.expected).toBe(b.expected);
        expect((a.upper - a.expected) / (b.upper - b.expected)).toBeCloseTo(2, 6);
        expect((a.expected - a.lower) / (b.expected - b.lower)).toBeCloseTo(2, 6);
        // the same forecast sigma underneath: scores and causes do not change with the width
        expect(a.score).toBe(b.score);
        expect(a.causes).toEqual(b.causes);
      }
      expect(before[0]!.causes.length).toBeGreaterThan(0);
    } finally {
      await saveScopeSettings({ target: global, settings: {}, author: "detect-test" });
    }
  }, 60_000);

  it("answers bad input with clear 4xx errors", async () => {
    const err = async (r: Response) => ({ status: r.status, error: ((await r.json()) as { error: string }).error });
    expect((await err(await detect({ streams: [] }))).status).toBe(400);
    expect(await err(await detect("{not json"))).toMatchObject({ status: 400, error: expect.stringContaining("not valid JSON") });
    expect(await err(await detect({ streams: [{ key: "a", id: 1, value: 1 }] }))).toMatchObject({ status: 400, error: expect.stringContaining("exactly one of `id` or `key`") });
    expect((await err(await detect({ streams: [{ key: "a", value: "high" }] }))).status).toBe(400);
    expect((await err(await detect({ streams: [{ key: "a", value: 1 }], extra: 1 }))).status).toBe(400);
    expect(await err(await detect({ timestamp: Date.now() + 3_600_000, streams: [{ key: "db_latency_ms", value: 1 }] }))).toMatchObject({ status: 400, error: expect.stringContaining("in the future") });
    expect(await err(await detect({ streams: [{ key: "db_latency_ms", value: 1 }, { key: "db_latency_ms", value: 2 }] }))).toMatchObject({ status: 400, error: expect.stringContaining("same stream") });
    const many = { streams: Array.from({ length: 1001 }, (_, i) => ({ key: `s${i}`, value: i })) };
    expect(await err(await detect(many))).toMatchObject({ status: 413, error: expect.stringContaining("At most 1000 streams") });
    expect((await err(await detect("x".repeat(2 * 1024 * 1024)))).status).toBe(413);
    expect((await err(await detect({ streams: [{ key: "a", value: 1 }] }, { "content-type": "text/plain" }))).status).toBe(415);
    expect((await err(await detect({ streams: [{ key: "a", value: 1 }] }, { authorization: "Bearer wrong" }))).status).toBe(401);
  }, 60_000);
});
