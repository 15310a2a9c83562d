import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Rng } from "@/lib/detectors/rng";
import { pool } from "../../db";
import { listAnomalies, upsertAnomalies, type AnomalyUpsert } from "../../repos/anomalies-repo";
import { getIncident } from "../../repos/incidents-repo";
import { listStreams } from "../../repos/streams-repo";
import { incidentOf } from "../../testing/incident-of";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";

vi.mock("server-only", () => ({}));
const { incidentDetail } = await import("./incident-service");

const MIN = 60_000;
const STEP = 30_000;
// Fixed in the past: nothing here depends on today's date.
const T0 = Date.UTC(2025, 4, 6, 9, 0, 0);

/**
 * Anomalies on streams of different sources or groups join one incident when the dependency
 * graph links their streams (their moves agree over the hours before the onset) and they
 * overlap in time; the anomaly says which edge linked it. Unlinked streams stay apart.
 */
describe.each(availableBackends())("incidents linked through the dependency graph on %s", (backend) => {
  let tdb: TestDatabase;
  const id = new Map<string, number>();
  const row = (engineId: string, key: string, startMs: number): AnomalyUpsert => ({
    engineId,
    streamId: id.get(key)!,
    streamIds: [id.get(key)!],
    startMs,
    endMs: null,
    peakScore: 90,
    severity: "high",
    type: "point",
    explanation: {},
  });

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    // Two hours and ten minutes at 30 s: the database's latency wanders, the API's latency
    // follows it (its requests wait on the database); a batch job and the API's error count wander on their own.
    const rng = new Rng(7);
    const walk = (scale: number) => {
      let x = 0;
      return Array.from({ length: (2 * 60 + 10) * 2 }, () => (x += (rng.next() - 0.5) * scale));
    };
    const shared = walk(4);
    const own = (scale: number) => walk(scale);
    const tsMs = shared.map((_, i) => T0 - 2 * 3_600_000 + i * STEP);
    const dbNoise = own(0.5);
    const apiNoise = own(0.5);
    // every stream spikes at T0 (one moment, four anomalies): a shared spike alone links nothing
    const spiked = (values: number[]) => values.map((v, i) => (tsMs[i]! >= T0 && tsMs[i]! < T0 + 3 * MIN ? v * 5 : v));
    const series = (metric: string, group: string, values: number[]) => ({ metric, labels: {}, kind: "gauge" as const, group, tsMs, values: spiked(values) });
    await ingestSeries("fleet", "remote_write", [series("db_latency_ms", "db", shared.map((x, i) => 100 + x + dbNoise[i]!)), series("cron_runtime_s", "batch", own(4).map((x) => 300 + x))], T0 + 10 * MIN);
    await ingestSeries("shop", "remote_write", [series("api_latency_ms", "api", shared.map((x, i) => 50 + 2 * x + apiNoise[i]!)), series("api_errors", "api", own(4).map((x) => 10 + x))], T0 + 10 * MIN);
    for (const st of await listStreams({ limit: 100 })) id.set(st.metric, st.id);
  });
  afterAll(async () => tdb.drop());

  it("joins an anomaly of another source to the incident whose stream it depends on, and says why", async () => {
    await upsertAnomalies([row("db", "db_latency_ms", T0)]);
    await upsertAnomalies([row("api", "api_latency_ms", T0 + MIN), row("cron", "cron_runtime_s", T0 + MIN)]);
    const inc = await incidentOf("db");
    expect(await incidentOf("api")).toBe(inc);
    // the batch job's runtime moves on its own: its anomaly at the same moment is another incident
    expect(await incidentOf("cron")).not.toBe(inc);
    const { rows } = await listAnomalies({ incidentId: inc, sort: "start", dir: "asc" });
    expect(rows.map((a) => a.engineId)).toEqual(["db", "api"]);
    expect(rows[0]!.incidentLink).toBeNull();
    const link = rows[1]!.incidentLink!;
    expect(link).toMatchObject({ kind: "dependency", streamId: id.get("api_latency_ms"), linkedStreamId: id.get("db_latency_ms"), lagSec: 0 });
    expect(link.correlation).toBeGreaterThan(0.9);
    expect((await getIncident(inc))!).toMatchObject({ sourceName: "fleet", group: "db", anomalyCount: 2 });
  });

  it("takes later anomalies of the linked group, and the incident page lists the links", async () => {
    const inc = await incidentOf("db");
    // the API's error count has no edge of its own, but its group is part of the incident now
    await upsertAnomalies([row("api-errors", "api_errors", T0 + 2 * MIN)]);
    expect(await incidentOf("api-errors")).toBe(inc);
    const detail = await incidentDetail(inc);
    expect(detail.anomalies.filter((a) => a.incidentLink).map((a) => a.engineId)).toEqual(["api"]);
    expect(detail.streams.map((s) => s.metric).sort()).toEqual(["api_errors", "api_latency_ms", "db_latency_ms"]);
  });
});
