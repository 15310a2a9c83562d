import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAnomalies } from "../../repos/anomalies-repo";
import { readScores } from "../../repos/scores-repo";
import { getStream, listStreams } from "../../repos/streams-repo";
import { ingestSeries, invalidateSourceCache } from "../../services/ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { DetectPipeline } from "./detect-pipeline";
import { createEngine, restoreEngine } from "./engine-adapter";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";

describe.each(availableBackends())("worker pipeline on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  const step = 10_000;
  const t0 = Date.UTC(2026, 10, 20, 0, 0, 0);
  const n = 1500;
  const spikeAt = 1400;

  it("scores every committed sample and opens an anomaly for a clear spike", async () => {
    const tsMs: number[] = [];
    const values: number[] = [];
    const calm: number[] = [];
    for (let i = 0; i < n; i++) {
      tsMs.push(t0 + i * step);
      values.push(i >= spikeAt && i < spikeAt + 6 ? 400 : 100 + 5 * noise(i));
      calm.push(50 + 2 * noise(i + 7));
    }
    const now = t0 + n * step + 60_000;
    await ingestSeries("app", "remote_write", [
      { metric: "latency_ms", labels: { service: "api" }, kind: "gauge", tsMs, values },
      { metric: "cpu_percent", labels: { service: "api" }, kind: "gauge", tsMs, values: calm },
    ], now);

    const pipeline = new DetectPipeline(createEngine(), 0, step, 500);
    // batches of 500, each one's writes overlapping the next one's scoring, as the worker runs it
    while ((await pipeline.tick(now, { overlap: true })) > 0) {
      /* next batch */
    }
    await pipeline.tick(now, { overlap: true });
    await pipeline.drain();
    await pipeline.flushStreams();
    expect(pipeline.stats.samplesRead).toBe(2 * n);
    const [latency] = await listStreams({ search: "latency_ms" });
    const scores = await readScores(latency!.id, t0, now, 100_000);
    expect(scores.length).toBe(n);
    const spikeScore = Math.max(...scores.filter((s) => s.t >= t0 + spikeAt * step && s.t < t0 + (spikeAt + 6) * step).map((s) => s.score));
    const calmScores = scores.filter((s) => s.t > t0 + 600 * step && s.t < t0 + 1300 * step).map((s) => s.score);
    expect(spikeScore).toBeGreaterThan(80);
    expect(Math.max(...calmScores)).toBeLessThan(60);

    const { rows } = await listAnomalies({ streamId: latency!.id });
    expect(rows.length).toBeGreaterThanOrEqual(1);
    const a = rows.find((r) => r.startMs >= t0 + (spikeAt - 2) * step && r.startMs <= t0 + (spikeAt + 6) * step);
    expect(a).toBeDefined();
    expect(a!.peakScore).toBeGreaterThan(80);
    const row = (await getStream(latency!.id))!;
    expect(row.lastValue).toBeCloseTo(values[n - 1]!, 6);
    // The overview's sparkline arrays hold the newest 60 scored points, in time order.
    expect(row.spark.t).toEqual(tsMs.slice(-60));
    expect(row.spark.v[59]).toBeCloseTo(values[n - 1]!, 6);
    expect(row.spark.s.every((x) => x !== null && x >= 0 && x <= 100)).toBe(true);

    // A snapshot restores to an engine that continues identically.
    const restored = restoreEngine(pipeline.engine.serialize());
    expect(restored.lastStepMs()).toBe(pipeline.engine.lastStepMs());
    const probe = new Float64Array([100]);
    const a1 = pipeline.engine.step(t0 + (n + 1) * step, [latency!.id], probe, new Float64Array([t0 + (n + 1) * step]));
    const a2 = restored.step(t0 + (n + 1) * step, [latency!.id], probe, new Float64Array([t0 + (n + 1) * step]));
    expect(a2.scores).toEqual(a1.scores);
  });
});
