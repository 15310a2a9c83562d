import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPrediction, listPredictions, upsertPredictions } from "../../repos/predictions-repo";
import { predictedIncidents, streamPrediction } from "../../services/predict/predict-service";
import { rollupPending } from "../../repos/storage/rollup";
import { listStreams } from "../../repos/streams-repo";
import { ingestSeries, invalidateSourceCache } from "../../services/ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { DetectPipeline } from "../pipeline/detect-pipeline";
import { createEngine } from "../../services/detection/engine-adapter";
import { Predictor } from "./predictor";
import { levelExceedance, TrendTracker } from "@/lib/predict/trend";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";

describe.each(availableBackends())("Predictor on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  it("predicts a leak will leave its normal range before it does, and not a steady stream: what the CLI and eval predict", async () => {
    const step = 60_000;
    const now = Math.floor(Date.now() / step) * step;
    const n = 27 * 60; // the trend needs a day of levels before its two-hour window
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
      /* the worker's rollup job: the trend learns from the 1-minute rollup */
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
    expect(p.etaMs!).toBeLessThanOrEqual(now + 30 * 60_000);
    expect(p.forecast.t.length).toBeGreaterThan(0);
    expect((await getPrediction(steadyId))!.probability).toBeLessThan(0.05);
    expect((await listPredictions(0.5, now - 60_000, 10)).map((r) => r.streamId)).toEqual([leakId]);

    // the same figure as the CLI's p_anomaly_30m (lib/insights/table-insights.ts) on these rows:
    // one TrendTracker fed the minutes the worker had settled, asked at the same time
    const upTo = now - 2 * step;
    for (const [id, values] of [[leakId, leak], [steadyId, steady]] as const) {
      const tr = new TrendTracker(1);
      tsMs.forEach((t, i) => {
        if (t < upTo) tr.observe(t, [values[i]!]);
      });
      const want = levelExceedance(tr, 0, upTo, 30 * 60_000)!;
      const got = (await getPrediction(id))!;
      expect(got.probability).toBeCloseTo(want.probability, 4);
      expect(got.envelopeHigh!).toBeCloseTo(want.high, 6);
    }

    // a minute later only the new minute is read, and the answer stays consistent
    await ingestSeries("app", "remote_write", [
      { metric: "memory_used_percent", labels: {}, kind: "gauge", tsMs: [now + step], values: [160] },
      { metric: "cpu_percent", labels: {}, kind: "gauge", tsMs: [now + step], values: [50] },
    ], now + 2 * step);
    while ((await rollupPending()) > 0) {
      /* rollup */
    }
    expect(await predictor.run(now + 4 * step)).toBe(2);
    expect((await getPrediction(leakId))!.probability).toBeGreaterThan(0.5);
    expect((await getPrediction(steadyId))!.probability).toBeLessThan(0.05);
  });

  it("does not show predictions for a stream that stopped sending long ago", async () => {
    const step = 60_000;
    const now = Math.floor(Date.now() / step) * step;
    const n = 9 * 60;
    const stoppedAt = now - 3 * 3_600_000; // three hours of silence: far past the 30-minute horizon
    const tsMs: number[] = [];
    const fill: number[] = [];
    for (let i = 0; i < n; i++) {
      tsMs.push(stoppedAt - (n - 1 - i) * step);
      fill.push(100 + 2 * noise(i, 3) + (i >= n - 90 ? 0.6 * (i - n + 90) : 0)); // was filling up when it stopped
    }
    await ingestSeries("old", "remote_write", [{ metric: "disk_fill_percent", labels: {}, kind: "gauge", tsMs, values: fill }], now);
    while ((await rollupPending()) > 0) {
      /* rollup */
    }
    const pipeline = new DetectPipeline(createEngine(), 0, step, 10_000);
    while ((await pipeline.tick(now + 10 * step)) > 0) {
      /* drain */
    }
    await pipeline.flushStreams();
    await new Predictor(() => pipeline.engine).run(now);
    const id = (await listStreams()).find((s) => s.metric === "disk_fill_percent")!.id;
    // a fresh, confident prediction stored for it (as the worker stores from its last state)
    await upsertPredictions([{ streamId: id, computedAtMs: now, horizonMs: 30 * 60_000, probability: 0.97, etaMs: now + 600_000, direction: "above", envelopeLow: 90, envelopeHigh: 110, forecast: { t: [now], expected: [150], lower: [140], upper: [160] } }]);
    expect((await getPrediction(id))!.probability).toBe(0.97);
    expect(await streamPrediction(id, now)).toBeNull();
    expect((await predictedIncidents(0, 100, now)).map((p) => p.streamId)).not.toContain(id);
    // the leak stream from the first test is still live and still listed
    expect((await predictedIncidents(0.5, 100, now)).length).toBeGreaterThan(0);
    // …and it shows again once the stream sends again
    await ingestSeries("old", "remote_write", [{ metric: "disk_fill_percent", labels: {}, kind: "gauge", tsMs: [now - step], values: [150] }], now);
    await pipeline.tick(now + 10 * step);
    await pipeline.flushStreams();
    expect((await streamPrediction(id, now))?.probability).toBe(0.97);
  });
});
