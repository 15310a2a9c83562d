import v8 from "node:v8";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countSamples } from "../../repos/samples-repo";
import { countScores } from "../../repos/scores-repo";
import { listSnapshots, loadSnapshot } from "../../repos/snapshots-repo";
import { pool } from "../../db";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { Worker } from "../../worker/worker";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { requestRollback, requestSnapshot, snapshotOverview } from "./model-service";

async function until<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const scoredAll = async () => {
  return (await countScores()) === (await countSamples());
};

describe.each(availableBackends())("snapshots and rollback through the worker on %s", (backend) => {
  let tdb: TestDatabase;
  let worker: Worker;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    worker = new Worker({ name: "worker", collectIntervalMs: 60_000, hostCollector: false, configFile: null, log: () => undefined });
    await worker.start();
  });
  afterAll(async () => {
    await worker.stop();
    await tdb.drop();
  });

  const step = 10_000;
  const t0 = Date.now() - 2 * 3_600_000;
  const batch = (from: number, count: number) => {
    const tsMs: number[] = [];
    const values: number[] = [];
    for (let i = from; i < from + count; i++) {
      tsMs.push(t0 + i * step);
      values.push(50 + 5 * Math.sin(i / 7));
    }
    return [{ metric: "queue_depth", labels: {}, kind: "gauge" as const, tsMs, values }];
  };

  it("takes a snapshot on request and rolls the detectors back to it", async () => {
    await ingestSeries("app", "remote_write", batch(0, 300));
    await until(scoredAll);
    await requestSnapshot("tester");
    const manual = await until(async () => (await listSnapshots()).find((s) => s.reason === "manual"));

    await ingestSeries("app", "remote_write", batch(300, 300));
    await until(scoredAll);
    await requestRollback(manual.id, "tester");
    const rolled = await until(async () => (await listSnapshots()).find((s) => s.reason === "rollback"));
    expect((await listSnapshots()).some((s) => s.reason === "before-rollback")).toBe(true);
    expect((await snapshotOverview()).pending).toBeNull();

    const a = v8.deserialize(zlib.gunzipSync((await loadSnapshot(manual.id))!.state));
    const b = v8.deserialize(zlib.gunzipSync((await loadSnapshot(rolled.id))!.state));
    expect(b).toEqual(a);
    // Scoring goes on from the current cursor after the rollback (nothing is re-read).
    expect(rolled.cursor).toBeGreaterThan(manual.cursor);
  });

  it("refuses a rollback to a snapshot that does not exist", async () => {
    await expect(requestRollback(999_999, "tester")).rejects.toThrow(/does not exist/);
  });
});
