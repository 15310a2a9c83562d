import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { listAnomalies, upsertAnomalies, type AnomalyUpsert } from "../../repos/anomalies-repo";
import { getIncident } from "../../repos/incidents-repo";
import { listStreams } from "../../repos/streams-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";

vi.mock("server-only", () => ({}));
const { labelIncidents } = await import("../incidents/incident-service");
const { labelSimilarToIncident, previewSimilarToIncident } = await import("./bulk-service");

const MIN = 60_000;
// Fixed in the past: nothing here depends on today's date.
const T0 = Date.UTC(2025, 3, 7, 2, 0, 0);

/**
 * "Label all similar" from an incident: on each of the incident's streams, the unlabelled
 * anomalies outside it of the type it had there, counted before anything changes and refused
 * when more arrived since the preview.
 */
describe.each(availableBackends())("label all similar to an incident on %s", (backend) => {
  let tdb: TestDatabase;
  const id = new Map<string, number>();
  const row = (engineId: string, metric: string, startMs: number, type: AnomalyUpsert["type"]): AnomalyUpsert => ({
    engineId,
    streamId: id.get(metric)!,
    streamIds: [id.get(metric)!],
    startMs,
    endMs: startMs + 2 * MIN,
    peakScore: 70,
    severity: "medium",
    type,
    explanation: {},
  });

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    const s = (metric: string) => ({ metric, labels: { fan: "x" }, kind: "gauge" as const, group: "fans", tsMs: [T0], values: [1] });
    await ingestSeries("rack", "remote_write", [s("fan_front"), s("fan_rear"), s("psu_temp")], T0);
    for (const st of await listStreams({ limit: 10 })) id.set(st.metric, st.id);
  });
  afterAll(async () => tdb.drop());

  it("previews and labels the anomalies like the incident's, on its streams, and nothing else", async () => {
    // Four dips an hour apart, each on both fans (one incident each); the psu and a trend on a fan are not alike.
    const dips = [0, 1, 2, 3].flatMap((k) => [row(`front-${k}`, "fan_front", T0 + k * 60 * MIN, "collective"), row(`rear-${k}`, "fan_rear", T0 + k * 60 * MIN, "collective")]);
    await upsertAnomalies([...dips, row("psu", "psu_temp", T0 + 30 * MIN, "collective"), row("front-trend", "fan_front", T0 + 30 * MIN, "trend")]);
    const first = (await listAnomalies({ search: "fan_front", type: ["collective"], sort: "start", dir: "asc", limit: 1 })).rows[0]!;
    const incidentId = first.incidentId!;
    expect((await getIncident(incidentId))!.anomalyCount).toBe(2);

    await labelIncidents([incidentId], "false_positive", null, "sre");
    const preview = await previewSimilarToIncident(incidentId);
    expect(preview).toMatchObject({ total: 6, streams: 2, firstMs: T0 + 60 * MIN, lastMs: T0 + 180 * MIN });

    // A new dip after the preview: the confirmation is refused, nothing changes.
    await upsertAnomalies([row("front-4", "fan_front", T0 + 240 * MIN, "collective")]);
    await expect(labelSimilarToIncident(incidentId, "false_positive", preview.total, "sre")).rejects.toThrow(/7 similar anomalies now, 6 when previewed/);
    expect((await listAnomalies({ label: ["false_positive"], limit: 50 })).total).toBe(2);

    expect(await labelSimilarToIncident(incidentId, "false_positive", 7, "sre")).toEqual({ updated: 7 });
    const fp = await listAnomalies({ label: ["false_positive"], limit: 50 });
    expect(fp.rows.map((a) => a.engineId).sort()).toEqual(["front-0", "front-1", "front-2", "front-3", "front-4", "rear-0", "rear-1", "rear-2", "rear-3"]);
    expect((await previewSimilarToIncident(incidentId)).total).toBe(0);
    await expect(previewSimilarToIncident(999_999)).rejects.toThrow(/Incident 999999 does not exist/);
  });
});
