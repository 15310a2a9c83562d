import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertAnomalies, type AnomalyUpsert } from "../../repos/anomalies-repo";
import { listDeliveries } from "../../repos/alerts-repo";
import { listStreams } from "../../repos/streams-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { createRule } from "./alert-service";
import { dispatchAlerts } from "./dispatch-service";
import { retryGivenUpDelivery } from "./retry-delivery";

/** A real webhook receiver that keeps what it accepted (2xx only) and can be told to fail. */
async function startReceiver() {
  const accepted: { event: string; sequence: number; anomalyId: string; metric: string }[] = [];
  const state = { status: 200, calls: 0 };
  const server = http.createServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString("utf8")));
    req.on("end", () => {
      state.calls++;
      const b = JSON.parse(data || "null") as { event: string; sequence: number; anomaly: { id: string; metric: string } };
      if (state.status === 200) accepted.push({ event: b.event, sequence: b.sequence, anomalyId: b.anomaly.id, metric: b.anomaly.metric });
      res.writeHead(state.status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, accepted, state, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const BASE = "http://omen.test:3000";

/**
 * Alerts in order: a receiver that fails while an anomaly opens and ends, then recovers, gets
 * "opened" (sequence 1) and then "resolved" (sequence 2), never the other way round, and never
 * alerts about Omen's own metrics unless a rule names them.
 */
describe.each(availableBackends())("alert order on %s", (backend) => {
  let tdb: TestDatabase;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    rx = await startReceiver();
  });
  afterAll(async () => {
    await rx.close();
    await tdb.drop();
  });

  it("never delivers an older state after a newer one while the receiver fails and recovers", async () => {
    const now = Date.now();
    await ingestSeries("web", "remote_write", [{ metric: "http_5xx_rate", labels: {}, kind: "gauge", tsMs: [now - 60_000], values: [1] }], now);
    await ingestSeries("omen", "self", [{ metric: "omen_worker_batch_duration_ms", labels: {}, kind: "gauge", tsMs: [now - 60_000], values: [1] }], now);
    const streams = await listStreams({ limit: 10 });
    const web = streams.find((s) => s.metric === "http_5xx_rate")!.id;
    const own = streams.find((s) => s.metric === "omen_worker_batch_duration_ms")!.id;
    await createRule({ name: "everything", url: rx.url, minSeverity: "low", cooldownSec: 0, notifyResolve: true, channel: "webhook" });
    const a = (engineId: string, streamId: number, endMs: number | null): AnomalyUpsert => ({
      engineId, streamId, streamIds: [streamId], startMs: now - 30_000, endMs, peakScore: 99, severity: "high", type: "point", explanation: {},
    });

    rx.state.status = 500;
    await upsertAnomalies([a("web-1", web, null), a("own-1", own, null)]);
    let t = now;
    expect(await dispatchAlerts({ baseUrl: BASE, nowMs: t })).toMatchObject({ enqueued: 1, failed: 1 });
    // It ends while "opened" still waits for its retry: "resolved" is queued behind it.
    await upsertAnomalies([a("web-1", web, now)]);
    for (let k = 0; k < 3; k++) {
      t += 31_000 * 2 ** k;
      await dispatchAlerts({ baseUrl: BASE, nowMs: t });
      const log = await listDeliveries();
      const resolved = log.find((d) => d.event === "resolved");
      // Resolved was never attempted while opened had not gone through.
      if (resolved) expect(resolved.attempts).toBe(0);
    }
    expect(rx.accepted).toEqual([]);
    rx.state.status = 200;
    for (let k = 0; k < 3; k++) {
      t += 300_000;
      await dispatchAlerts({ baseUrl: BASE, nowMs: t });
    }
    expect(rx.accepted.map((r) => `${r.sequence}:${r.event}:${r.metric}`)).toEqual(["1:opened:http_5xx_rate", "2:resolved:http_5xx_rate"]);
    // Omen's own metric raised nothing at all.
    expect((await listDeliveries()).every((d) => d.event && d.ruleName === "everything")).toBe(true);
    expect((await listDeliveries()).length).toBe(2);
  });

  it("shows a delivery that gave up, and sends it when retried by hand", async () => {
    const now = Date.now() + 3_600_000;
    const web = (await listStreams({ limit: 10 })).find((s) => s.metric === "http_5xx_rate")!.id;
    rx.state.status = 500;
    await upsertAnomalies([{ engineId: "web-2", streamId: web, streamIds: [web], startMs: now - 10_000, endMs: null, peakScore: 99, severity: "high", type: "point", explanation: {} }]);
    let t = now;
    for (let k = 0; k < 8; k++) {
      await dispatchAlerts({ baseUrl: BASE, nowMs: t });
      t += 600_000;
    }
    const d = (await listDeliveries()).find((x) => x.event === "opened" && x.status === "failed")!;
    expect(d).toMatchObject({ attempts: 5, nextAttemptAtMs: null });
    rx.state.status = 200;
    await retryGivenUpDelivery(d.id, t);
    await dispatchAlerts({ baseUrl: BASE, nowMs: t });
    expect((await listDeliveries()).find((x) => x.id === d.id)).toMatchObject({ status: "sent", attempts: 6 });
    expect(rx.accepted.at(-1)).toMatchObject({ event: "opened", sequence: 1 });
    await expect(retryGivenUpDelivery(d.id, t)).rejects.toThrow(/not a failed delivery that gave up/);
  });
});
