import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAnomalies } from "../../repos/anomalies-repo";
import { listStreams } from "../../repos/streams-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { DetectPipeline } from "../../worker/pipeline/detect-pipeline";
import { createEngine } from "../../worker/pipeline/engine-adapter";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { explainAnomaly } from "./explain-service";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";

describe.each(availableBackends())("explainAnomaly on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  it("puts the stream that moved first at the head of the causal timeline", async () => {
    const step = 10_000;
    const t0 = Date.UTC(2026, 10, 22, 0, 0, 0);
    const n = 2200;
    const incident = 2000;
    const lagSteps = 18; // the API follows the database by 3 minutes
    const bump = (i: number) => (i >= incident && i < incident + 60 ? 1 : 0);
    const db: number[] = [];
    const api: number[] = [];
    const tsMs: number[] = [];
    for (let i = 0; i < n; i++) {
      tsMs.push(t0 + i * step);
      db.push(20 + 2 * noise(i, 1) + 200 * bump(i));
      api.push(100 + 6 * noise(i, 2) + 500 * bump(i - lagSteps));
    }
    const now = t0 + n * step + 60_000;
    await ingestSeries("shop", "remote_write", [
      { metric: "db_latency_ms", labels: {}, kind: "gauge", tsMs, values: db },
      { metric: "api_latency_ms", labels: {}, kind: "gauge", tsMs, values: api },
    ], now);
    const pipeline = new DetectPipeline(createEngine(), 0, step, 5000);
    while ((await pipeline.tick(now)) > 0) {
      /* drain */
    }
    const streams = await listStreams();
    const dbId = streams.find((s) => s.metric === "db_latency_ms")!.id;
    const apiId = streams.find((s) => s.metric === "api_latency_ms")!.id;
    const apiAnomaly = (await listAnomalies({ streamId: apiId })).rows.find((a) => a.startMs >= t0 + incident * step);
    expect(apiAnomaly).toBeDefined();

    const ex = await explainAnomaly(apiAnomaly!.id);
    expect(ex.timeline.map((e) => e.streamId)).toContain(dbId);
    expect(ex.timeline[0]!.streamId).toBe(dbId);
    expect(ex.originStreamId).toBe(dbId);
    const dbEntry = ex.timeline.find((e) => e.streamId === dbId)!;
    expect(dbEntry.offsetSec).toBeLessThan(0);
    expect(dbEntry.lagSec).toBeGreaterThanOrEqual(120);
    expect(dbEntry.lagSec).toBeLessThanOrEqual(240);
    const edge = ex.edges.find((e) => e.from === dbId && e.to === apiId);
    expect(edge).toBeDefined();
    expect(edge!.correlation).toBeGreaterThan(0.5);
  });
});
