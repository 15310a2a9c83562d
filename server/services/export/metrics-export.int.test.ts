import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertAnomalies } from "../../repos/anomalies-repo";
import { updateStreamRecent } from "../../repos/storage/stream-recent";
import { listStreams } from "../../repos/streams-repo";
import { heartbeat } from "../../repos/worker-status-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { renderMetrics } from "./metrics-export";

describe.each(availableBackends())("Prometheus export on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  it("publishes per-stream scores, open severity, anomaly counts and worker liveness", async () => {
    const now = Date.now();
    await ingestSeries("api", "remote_write", [{ metric: "latency_ms", labels: { route: "/pay" }, kind: "gauge", tsMs: [now - 1000], values: [12] }], now);
    const [s] = await listStreams();
    await updateStreamRecent([{ id: s!.id, tsMs: now - 1000, value: 12, score: 87.5 }]);
    await upsertAnomalies([
      { engineId: "e1", streamId: s!.id, streamIds: [s!.id], startMs: now - 5000, endMs: null, peakScore: 87.5, severity: "medium", type: "point", explanation: {} },
    ]);
    await heartbeat({ name: "worker", pid: 1, startedAtMs: now, cursor: 10, info: { lag: 3 } });
    const { contentType, body } = await renderMetrics(now);
    expect(contentType).toContain("text/plain");
    expect(body).toContain('omen_anomaly_score{stream="latency_ms{route=\\"/pay\\"}",metric="latency_ms",source="api"} 87.5');
    expect(body).toMatch(/^omen_stream_open_severity\{.*source="api"\} 2$/m);
    expect(body).toContain('omen_anomalies{severity="medium",type="point",status="open"} 1');
    expect(body).toContain('omen_worker_up{worker="worker"} 1');
    expect(body).toContain('omen_worker_lag_samples{worker="worker"} 3');
  });
});
