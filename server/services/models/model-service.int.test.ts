import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countSamples } from "../../repos/storage/samples";
import { countScores } from "../../repos/storage/scores";
import { listSnapshots, loadSnapshot } from "../../repos/snapshots-repo";
import { pool } from "../../db";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { Worker } from "../../worker/worker";
import { createHandoffClient, startHandoffServer, type HandoffClient } from "../../worker/handoff";
import { setCommandSink } from "../commands/worker-commands";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { requestRollback, requestSnapshot, snapshotOverview } from "./model-service";
import { readSnapshotState } from "../detection/clock-domains";

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
  let handoff: Awaited<ReturnType<typeof startHandoffServer>>;
  let client: HandoffClient;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    // as the two processes of `npm start` are wired: web → hand-off endpoint → worker (server/worker/main.ts, server/web/main.ts)
    handoff = await startHandoffServer(
      (b) => worker.handoff.offer(b),
      (r) => worker.probe(r),
      (cmd) => worker.command(cmd),
    );
    worker = new Worker({ name: "worker", collectIntervalMs: 60_000, hostCollector: false, configFile: null, handoff: handoff.endpoint, log: () => undefined });
    await worker.start();
    client = createHandoffClient(async () => handoff.endpoint);
    setCommandSink(client.command);
  });
  afterAll(async () => {
    setCommandSink(null);
    client.close();
    await handoff.close();
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
    // the request reaches the worker as a command on the hand-off endpoint, not by its 15-s poll
    let asked = Date.now();
    await requestSnapshot("tester");
    const manual = await until(async () => (await listSnapshots()).find((s) => s.reason === "manual"), 10_000);
    const snapshotMs = Date.now() - asked;

    await ingestSeries("app", "remote_write", batch(300, 300));
    await until(scoredAll);
    asked = Date.now();
    await requestRollback(manual.id, "tester");
    const rolled = await until(async () => (await listSnapshots()).find((s) => s.reason === "rollback"), 10_000);
    const rollbackMs = Date.now() - asked;
    console.log(`[models] ${backend}: snapshot request carried out in ${snapshotMs} ms, rollback in ${rollbackMs} ms`);
    expect(snapshotMs).toBeLessThan(2_000);
    expect(rollbackMs).toBeLessThan(2_000);
    expect((await listSnapshots()).some((s) => s.reason === "before-rollback")).toBe(true);
    expect((await snapshotOverview()).pending).toBeNull();

    const a = readSnapshotState(zlib.gunzipSync((await loadSnapshot(manual.id))!.state));
    const b = readSnapshotState(zlib.gunzipSync((await loadSnapshot(rolled.id))!.state));
    expect(b).toEqual(a);
    // Scoring goes on from the current cursor after the rollback (nothing is re-read).
    expect(rolled.cursor).toBeGreaterThan(manual.cursor);
  });

  it("refuses a rollback to a snapshot that does not exist", async () => {
    await expect(requestRollback(999_999, "tester")).rejects.toThrow(/does not exist/);
  });
});
