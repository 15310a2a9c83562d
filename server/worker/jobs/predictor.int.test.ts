import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPrediction, listPredictions } from "../../repos/predictions-repo";
import { rollupPending } from "../../repos/samples-repo";
import { listStreams } from "../../repos/streams-repo";
import { ingestSeries, invalidateSourceCache } from "../../services/ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { DetectPipeline } from "../pipeline/detect-pipeline";
import { createEngine } from "../pipeline/engine-adapter";
import { Predictor } from "./predictor";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";

describe.each(availableBackends())("Predictor on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  it("predicts a leak will leave its weekly range before it does, and not a steady stream", async () => {
    const step = 60_000;
    const now = Math.floor(Date.now() / step) * step;
    const n = 9 * 60;
    const leakFrom = n - 90;
    const tsMs: number[] = [];
    const leak: number[] = [];
    const steady: number[] = [];
    for (let i = 0; i < n; i++) {
      tsMs.push(now - (n - 1 - i) * step);
      leak.push(100 + 2 * noise(i, 1) + (i >= leakFrom ? 0.6 * (i - leakFrom) : 0));
      steady.push(50 + 3 * noise(i, 2));
    }
    await ingestSeries("app", "remote_write", [
      { metric: "memory_used_percent", labels: {}, kind: "gauge", tsMs, values: leak },
      { metric: "cpu_percent", labels: {}, kind: "gauge", tsMs, values: steady },
    ], now);
    while ((await rollupPending()) > 0) {
      /* the worker's rollup job: envelopes are built from the 1-minute rollup */
    }
    const pipeline = new DetectPipeline(createEngine(), 0, step, 10_000);
    while ((await pipeline.tick(now + 10 * step)) > 0) {
      /* drain */
    }
    const predictor = new Predictor(() => pipeline.engine);
    expect(await predictor.run(now)).toBe(2);

    const streams = await listStreams();
    const leakId = streams.find((s) => s.metric === "memory_used_percent")!.id;
    const steadyId = streams.find((s) => s.metric === "cpu_percent")!.id;
    const p = (await getPrediction(leakId))!;
    expect(p.probability).toBeGreaterThan(0.5);
    expect(p.direction).toBe("above");
    expect(p.etaMs).not.toBeNull();
    expect(p.etaMs!).toBeGreaterThan(now);
    expect(p.etaMs!).toBeLessThanOrEqual(now + 30 * 60_000 + step);
    expect(p.forecast.t.length).toBeGreaterThan(0);
    expect(p.forecast.expected.at(-1)!).toBeGreaterThan(p.envelopeHigh!);
    expect((await getPrediction(steadyId))!.probability).toBeLessThan(0.05);
    expect((await listPredictions(0.5, now - 60_000, 10)).map((r) => r.streamId)).toEqual([leakId]);
  });
});
