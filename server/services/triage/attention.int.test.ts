import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pool } from "../../db";
import { countOpenBySeverity, listAnomalies, openSeverityByStream, setAnomalyLabel, upsertAnomalies, type AnomalyUpsert } from "../../repos/anomalies-repo";
import { listStreams } from "../../repos/streams-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { needsAttention } from "./attention-service";
import { upsertPredictions, type PredictionRow } from "../../repos/predictions-repo";
import { setIncidentLabel } from "../../repos/incidents-repo";
import { predictedIncidents, streamPrediction } from "../predict/predict-service";

const MIN = 60_000;
const DAY = 86_400_000;

/**
 * The overview's "now": live anomalies grouped into incidents on top, history from an import
 * neither listed there nor counted as open, and the filter box taking labels as cards show them.
 * Times are relative to the moment the test runs, as the anomaly rows' created_at is.
 */
describe.each(availableBackends())("needs attention on %s", (backend) => {
  let tdb: TestDatabase;
  const now = Date.now();
  const ids = new Map<string, number>();
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    const ts = [now - 3 * MIN, now - 2 * MIN, now - MIN];
    const vm = (metric: string, host: string) => ({ metric, labels: { host }, kind: "gauge" as const, group: "servers", tsMs: ts, values: [1, 2, 3] });
    await ingestSeries("vm-fleet", "remote_write", [vm("node_load1", "vm"), vm("node_memory_used", "vm"), vm("node_load1", "db")], now);
    await ingestSeries("imports", "csv", [{ metric: "nyc_taxi", labels: {}, kind: "gauge", tsMs: [now - 400 * DAY, now - 399 * DAY], values: [1, 2] }], now);
    for (const s of await listStreams({ limit: 100 })) ids.set(s.key, s.id);
    // The worker keeps last_sample_at; stand in for it: the fleet is live, the import is old.
    await pool().query(`UPDATE stream SET last_sample_at = to_timestamp($1 / 1000.0) WHERE metric <> 'nyc_taxi'`, [now - MIN]);
    await pool().query(`UPDATE stream SET last_sample_at = to_timestamp($1 / 1000.0) WHERE metric = 'nyc_taxi'`, [now - 399 * DAY]);
    const id = (k: string) => ids.get(k)!;
    const row = (engineId: string, streamId: number, p: Partial<AnomalyUpsert>): AnomalyUpsert => ({
      engineId,
      streamId,
      streamIds: [streamId],
      startMs: now - 5 * MIN,
      endMs: null,
      peakScore: 70,
      severity: "low",
      type: "point",
      explanation: {},
      ...p,
    });
    await upsertAnomalies([
      row("load-vm", id('node_load1{host="vm"}'), { severity: "high", peakScore: 97, startMs: now - 6 * MIN }),
      row("mem-vm", id('node_memory_used{host="vm"}'), { severity: "medium", peakScore: 85, startMs: now - 4 * MIN }),
      row("load-db-old", id('node_load1{host="db"}'), { severity: "medium", startMs: now - 50 * MIN, endMs: now - 40 * MIN }),
      row("fp", id('node_load1{host="db"}'), { severity: "high", peakScore: 99, startMs: now - 2 * MIN }),
      // 38 anomalies found in an import of last year: history, never open work.
      ...Array.from({ length: 38 }, (_, i) => row(`taxi-${i}`, id("nyc_taxi"), { severity: "high", peakScore: 96, startMs: now - 400 * DAY + i * MIN, endMs: i % 2 ? null : now - 400 * DAY + (i + 1) * MIN })),
    ]);
    const fp = (await listAnomalies({ search: "host", limit: 10 })).rows.find((r) => r.engineId === "fp")!;
    await setAnomalyLabel([fp.id], "false_positive");
  });
  afterAll(async () => tdb.drop());

  it("lists live incidents by severity then recency; history, ended and false-positive incidents stay out", async () => {
    const a = await needsAttention(now);
    // The three overlapping fleet anomalies (one source and group) are one stored incident; the
    // earlier db anomaly ended 40 minutes ago, so its incident closed by itself.
    expect(a.total).toBe(1);
    const [first] = a.incidents;
    expect(first!.severity).toBe("high");
    expect(first!.anomalyCount).toBe(3);
    expect(first!.streamCount).toBe(3);
    expect(first!.status).toBe("open");
    expect(first!.endMs).toBeNull();
    expect(first!.sourceName).toBe("vm-fleet");
    expect(first!.lastSampleAtMs).toBe(now - MIN);
    expect(first!.stale).toBe(false);
    expect(first!.types).toEqual(["point"]);
    expect(a.incidents.some((i) => i.sourceName === "imports")).toBe(false);
    // A second live event on another source, less severe, lists below it.
    await ingestSeries("edge", "remote_write", [{ metric: "edge_rps", labels: {}, kind: "gauge", tsMs: [now - MIN], values: [1] }], now);
    const edge = (await listStreams({ search: "edge_rps", limit: 1 }))[0]!.id;
    await upsertAnomalies([{ engineId: "edge", streamId: edge, streamIds: [edge], startMs: now - MIN, endMs: null, peakScore: 60, severity: "medium", type: "trend", explanation: {} }]);
    const b = await needsAttention(now);
    expect(b.incidents.map((i) => [i.sourceName, i.severity])).toEqual([
      ["vm-fleet", "high"],
      ["edge", "medium"],
    ]);
    // Labelled a false positive: out of the band.
    await setIncidentLabel([b.incidents[1]!.id], "false_positive");
    expect((await needsAttention(now)).incidents.map((i) => i.sourceName)).toEqual(["vm-fleet"]);
  });

  it("does not count history or ended anomalies as open, and marks history", async () => {
    expect(await countOpenBySeverity()).toEqual({ high: 2, medium: 2, low: 0 });
    const hist = await listAnomalies({ historical: true, limit: 100 });
    expect(hist.total).toBe(38);
    expect(hist.rows.every((r) => r.historical && r.streamKey === "nyc_taxi")).toBe(true);
    const live = await listAnomalies({ historical: false, limit: 100 });
    expect(live.total).toBe(5);
    expect(live.rows.every((r) => !r.historical)).toBe(true);
    // The card severity comes from live anomalies only.
    const sev = await openSeverityByStream();
    expect(sev.get(ids.get("nyc_taxi")!)).toBeUndefined();
    expect(sev.get(ids.get('node_load1{host="vm"}')!)).toBe("high");
  });

  it("filters by a label as a card shows it or as Prometheus writes it", async () => {
    const keys = async (search: string) => (await listStreams({ search, limit: 100 })).map((s) => s.key).sort();
    const vmStreams = ['node_load1{host="vm"}', 'node_memory_used{host="vm"}'];
    expect(await keys("host=vm")).toEqual(vmStreams);
    expect(await keys('host="vm"')).toEqual(vmStreams);
    expect(await keys('node_load1{host="vm"}')).toEqual(['node_load1{host="vm"}']);
    expect(await keys("load host=db")).toEqual(['node_load1{host="db"}']);
    expect(await keys("host=nope")).toEqual([]);
    // LIKE wildcards are literal text.
    expect(await keys("node%load")).toEqual([]);
    expect(await keys("taxi")).toEqual(["nyc_taxi"]);
  });

  it("shows no prediction for a stream that stopped long ago", async () => {
    const p = (streamId: number): PredictionRow => ({
      streamId,
      computedAtMs: now,
      horizonMs: 30 * MIN,
      probability: 0.9,
      etaMs: now + 10 * MIN,
      direction: "above",
      envelopeLow: 0,
      envelopeHigh: 10,
      forecast: { t: [now + MIN], expected: [5], lower: [0], upper: [10] },
    });
    const live = ids.get('node_load1{host="vm"}')!;
    const stopped = ids.get("nyc_taxi")!;
    await upsertPredictions([p(live), p(stopped)]);
    expect((await predictedIncidents(0.5, 50, now)).map((r) => r.streamId)).toEqual([live]);
    expect(await streamPrediction(stopped, now)).toBeNull();
    expect((await streamPrediction(live, now))?.streamId).toBe(live);
  });
});
