import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { getAnomaly, listAnomalies, upsertAnomalies, type AnomalyUpsert } from "../../repos/anomalies-repo";
import { listFeedback } from "../../repos/feedback-repo";
import { listStreams } from "../../repos/streams-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";

// The services guard against client bundles with `server-only`; this process is the server.
vi.mock("server-only", () => ({}));
const { labelMatching, labelSimilar, previewSimilar, setStatusMatching } = await import("./bulk-service");
const { labelAnomalies } = await import("../anomalies/anomaly-service");

const MIN = 60_000;

describe.each(availableBackends())("bulk triage on %s", (backend) => {
  let tdb: TestDatabase;
  const now = Date.now();
  let a: number;
  let b: number;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    await ingestSeries("fleet", "remote_write", [
      { metric: "disk_io", labels: { host: "a" }, kind: "gauge", tsMs: [now - MIN], values: [1] },
      { metric: "disk_io", labels: { host: "b" }, kind: "gauge", tsMs: [now - MIN], values: [1] },
    ], now);
    const streams = await listStreams({ limit: 10 });
    a = streams.find((s) => s.labels.host === "a")!.id;
    b = streams.find((s) => s.labels.host === "b")!.id;
    const row = (engineId: string, streamId: number, startMs: number, type: AnomalyUpsert["type"]): AnomalyUpsert => ({
      // Still open: an ended anomaly's incident closes by itself (and its rows with it).
      engineId, streamId, streamIds: [streamId], startMs, endMs: null, peakScore: 70, severity: "low", type, explanation: {},
    });
    await upsertAnomalies([
      // 120 point anomalies on host a (more than a page), 5 trend ones, 30 on host b.
      ...Array.from({ length: 120 }, (_, i) => row(`a-${i}`, a, now - (200 - i) * MIN, "point")),
      ...Array.from({ length: 5 }, (_, i) => row(`a-trend-${i}`, a, now - (300 - i) * MIN, "trend")),
      ...Array.from({ length: 30 }, (_, i) => row(`b-${i}`, b, now - (100 - i) * MIN, "point")),
    ]);
  });
  afterAll(async () => tdb.drop());

  it("acknowledges every anomaly the filter matches, not only a page of them", async () => {
    const r = await setStatusMatching({ search: 'host="a"', type: ["point"] }, "acknowledged", "sre");
    expect(r.updated).toBe(120);
    expect((await listAnomalies({ status: ["acknowledged"], limit: 1 })).total).toBe(120);
    expect((await listAnomalies({ streamId: b, status: ["open"], limit: 1 })).total).toBe(30);
    expect((await listAnomalies({ type: ["trend"], status: ["open"], limit: 1 })).total).toBe(5);
  });

  it("a false positive is resolved with its label; 'label all similar' previews, then labels the same stream and type", async () => {
    const first = (await listAnomalies({ streamId: a, type: ["point"], sort: "start", dir: "desc", limit: 1 })).rows[0]!;
    await labelAnomalies([first.id], "false_positive", null, "sre");
    const after = (await getAnomaly(first.id))!;
    expect(after.label).toBe("false_positive");
    expect(after.status).toBe("resolved");

    const p = await previewSimilar(first.id);
    expect(p).toMatchObject({ total: 119, type: "point", streamKey: 'disk_io{host="a"}' });
    expect(p.firstMs).toBe(now - 200 * MIN);
    // Nothing changed by the preview.
    expect((await listAnomalies({ label: ["false_positive"], limit: 1 })).total).toBe(1);
    // A preview that no longer matches (count grew) is refused.
    await expect(labelSimilar(first.id, "false_positive", 100, "sre")).rejects.toThrow(/119 similar anomalies now, 100 when previewed/);
    const r = await labelSimilar(first.id, "false_positive", p.total, "sre");
    expect(r.updated).toBe(119);
    const fp = await listAnomalies({ label: ["false_positive"], limit: 500 });
    expect(fp.total).toBe(120);
    expect(fp.rows.every((x) => x.streamId === a && x.type === "point" && x.status === "resolved")).toBe(true);
    // Each label is feedback the worker applies to the detectors.
    expect((await listFeedback(fp.rows[5]!.id)).some((f) => f.label === "false_positive")).toBe(true);
    expect((await previewSimilar(first.id)).total).toBe(0);
  });

  it("labels everything a filter matches, and refuses a filter that matches nothing gracefully", async () => {
    expect((await labelMatching({ streamId: b }, "true_anomaly", "sre")).updated).toBe(30);
    expect((await listAnomalies({ label: ["true_anomaly"], limit: 1 })).total).toBe(30);
    expect((await labelMatching({ search: "no-such-stream" }, "expected", "sre")).updated).toBe(0);
  });
});
