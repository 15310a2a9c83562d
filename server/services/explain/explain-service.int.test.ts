import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAnomalies, upsertAnomalies } from "../../repos/anomalies-repo";
import { sequenceHead } from "../../repos/storage/samples";
import { readScores } from "../../repos/storage/scores";
import { listStreams } from "../../repos/streams-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { DetectPipeline } from "../../worker/pipeline/detect-pipeline";
import { resumeRollup } from "../../worker/pipeline/resume-rollup";
import { ConfigReloader } from "../config/config-reload";
import { saveScopeSettings } from "../config/config-service";
import { createEngine, withSettings } from "../detection/engine-adapter";
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

    // ranked causes: the database carries most of the evidence at the API's onset, and rose first
    expect(ex.causes[0]!.streamId).toBe(dbId);
    expect(ex.causes[0]!.rank).toBe(1);
    expect(ex.causes[0]!.offsetSec!).toBeLessThan(0);
    expect(ex.causes.find((c) => c.streamId === apiId)!.isReference).toBe(true);
    const shares = ex.causes.reduce((a, c) => a + c.share, 0);
    expect(shares).toBeGreaterThan(0.99);
    expect(shares).toBeLessThan(1.01);
    expect(ex.group.source).toBe("shop");

    // Another import's stream with an anomaly left open since days before, a stream of this
    // group from other hours, and a sparse stream of this group that opened just before
    // (too few points to correlate).
    const old = t0 - 3921 * 60_000;
    await ingestSeries("other-import", "csv", [{ metric: "unrelated", labels: {}, kind: "gauge", tsMs: [old, old + step, old + 2 * step], values: [1, 2, 3] }], now);
    const onset = apiAnomaly!.startMs;
    await ingestSeries("shop", "remote_write", [
      { metric: "last_week", labels: {}, kind: "gauge", tsMs: [old, old + step], values: [1, 2] },
      { metric: "sparse", labels: {}, kind: "gauge", tsMs: [onset - 120_000, onset - 60_000, onset], values: [1, 50, 2] },
    ], now);
    const all = await listStreams();
    const idOf = (m: string) => all.find((s) => s.metric === m)!.id;
    await upsertAnomalies([
      { engineId: "t-unrelated", streamId: idOf("unrelated"), streamIds: [idOf("unrelated")], startMs: old, endMs: null, peakScore: 99, severity: "high", type: "point", explanation: {} },
      { engineId: "t-last-week", streamId: idOf("last_week"), streamIds: [idOf("last_week")], startMs: old + step, endMs: old + 2 * step, peakScore: 99, severity: "high", type: "point", explanation: {} },
      { engineId: "t-sparse", streamId: idOf("sparse"), streamIds: [idOf("sparse")], startMs: onset - 60_000, endMs: onset, peakScore: 70, severity: "low", type: "point", explanation: {} },
    ]);
    const ex2 = await explainAnomaly(apiAnomaly!.id);
    const inTimeline = ex2.timeline.map((e) => e.streamId);
    expect(inTimeline).not.toContain(idOf("unrelated"));
    expect(inTimeline).not.toContain(idOf("last_week"));
    expect(ex2.causes.map((c) => c.streamId)).not.toContain(idOf("unrelated"));
    const sparse = ex2.timeline.find((e) => e.streamId === idOf("sparse"));
    expect(sparse).toBeDefined();
    expect(sparse!.correlation).toBeNull(); // "not enough data", not 0.00
    expect(sparse!.lagSec).toBeNull();
    expect(ex2.originStreamId).toBe(dbId);
  });

  it("names no origin when the anomalous stream is the only one that moved", async () => {
    const step = 10_000;
    const t0 = Date.UTC(2026, 10, 25, 0, 0, 0);
    const n = 1600;
    const tsMs: number[] = [];
    const spike: number[] = [];
    const quiet: number[] = [];
    for (let i = 0; i < n; i++) {
      tsMs.push(t0 + i * step);
      spike.push(50 + 2 * noise(i, 5) + (i >= 1500 && i < 1530 ? 300 : 0));
      quiet.push(10 + noise(i, 6));
    }
    const now = t0 + n * step + 60_000;
    await ingestSeries("solo", "remote_write", [
      { metric: "spiky", labels: {}, kind: "gauge", tsMs, values: spike },
      { metric: "calm", labels: {}, kind: "gauge", tsMs, values: quiet },
    ], now);
    const pipeline = new DetectPipeline(createEngine(), 0, step, 5000);
    while ((await pipeline.tick(now)) > 0) {
      /* drain */
    }
    const spikyId = (await listStreams()).find((s) => s.metric === "spiky")!.id;
    const a = (await listAnomalies({ streamId: spikyId })).rows.find((r) => r.startMs >= t0 + 1500 * step - 60_000);
    expect(a).toBeDefined();
    const ex = await explainAnomaly(a!.id);
    expect(ex.originStreamId).toBeNull();
    expect(ex.causes[0]!.streamId).toBe(spikyId);
    // the calm stream's noise carries a little evidence (its score and forecast deviation), the spike most
    expect(ex.causes[0]!.share).toBeGreaterThan(0.75);
    expect(ex.causes[1]?.share ?? 0).toBeLessThan(ex.causes[0]!.share / 3);
  });

  it("ranks the same whatever band width the worker is configured to draw", async () => {
    // one sample a minute: each stored minute's band is then exactly one step's band
    const step = 60_000;
    const t0 = Date.UTC(2026, 10, 28, 0, 0, 0);
    const n = 1600;
    const tsMs = Array.from({ length: n }, (_, i) => t0 + i * step);
    // moderate moves (a few to a dozen sigmas): their deviations from the forecast, not only
    // saturated scores, decide the shares
    const front = tsMs.map((_, i) => 50 + 2 * noise(i, 7) + (i >= 1500 && i < 1530 ? 20 : 0));
    const back = tsMs.map((_, i) => 30 + 2 * noise(i, 8) + (i >= 1497 && i < 1530 ? 4 : 0));
    const idle = tsMs.map((_, i) => 10 + noise(i, 9));
    const now = t0 + n * step + 60_000;

    /** The same series as a new source, scored by a fresh worker engine under `bandSigmas`. */
    async function explainedUnder(source: string, bandSigmas: number) {
      await saveScopeSettings({ target: { scope: "global", ref: "" }, settings: { bandSigmas }, author: "test" });
      const head = await sequenceHead();
      await ingestSeries(source, "remote_write", [
        { metric: "front_ms", labels: {}, kind: "gauge", tsMs, values: front },
        { metric: "back_ms", labels: {}, kind: "gauge", tsMs, values: back },
        { metric: "idle", labels: {}, kind: "gauge", tsMs, values: idle },
      ], now);
      const engine = withSettings(createEngine());
      await new ConfigReloader(engine, null, () => undefined).run();
      // with the value rollup, as the worker keeps it: the page reads each minute's mean value
      const pipeline = new DetectPipeline(engine, head, step, 5000, await resumeRollup(head));
      while ((await pipeline.tick(now)) > 0) {
        /* drain */
      }
      const streams = await listStreams();
      const id = (m: string) => streams.find((s) => s.metric === m && s.sourceName === source)!.id;
      const a = (await listAnomalies({ streamId: id("front_ms") })).rows.find((r) => r.startMs >= t0 + 1490 * step);
      expect(a).toBeDefined();
      const ex = await explainAnomaly(a!.id);
      const at = t0 + 1400 * step;
      const [point] = await readScores(id("front_ms"), at, at + step, 1);
      return {
        halfWidth: point!.upper! - point!.expected!,
        causes: ex.causes.map((c) => ({ key: c.key, rank: c.rank, share: c.share, peakScore: c.peakScore })),
      };
    }

    const narrow = await explainedUnder("band-3", 3);
    const wide = await explainedUnder("band-6", 6);
    await saveScopeSettings({ target: { scope: "global", ref: "" }, settings: {}, author: "test" });
    // the worker draws the configured band (twice as wide) ...
    expect(wide.halfWidth / narrow.halfWidth).toBeCloseTo(2, 6);
    // ... and the page reads it as the same forecast sigma: the ranking does not change
    expect(narrow.causes.length).toBeGreaterThan(1);
    expect(wide.causes).toEqual(narrow.causes);
  });
});
