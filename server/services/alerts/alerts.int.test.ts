import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAnomalies, upsertAnomalies, type AnomalyUpsert } from "../../repos/anomalies-repo";
import { listDeliveries } from "../../repos/alerts-repo";
import { rollupPending } from "../../repos/storage/rollup";
import { listStreams } from "../../repos/streams-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { DetectPipeline } from "../../worker/pipeline/detect-pipeline";
import { createEngine } from "../detection/engine-adapter";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { createRule, sendTestAlert } from "./alert-service";
import { dispatchAlerts } from "./dispatch-service";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A real webhook receiver on a free local port; `status` decides what it answers. */
async function startReceiver() {
  const received: Received[] = [];
  const state = { status: 200 };
  const server = http.createServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString("utf8")));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body: JSON.parse(data || "null") as Record<string, unknown> });
      res.writeHead(state.status, { "content-type": "text/plain" }).end(state.status === 200 ? "ok" : "receiver down");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, state, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const BASE = "http://omen.test:3000";
const STEP = 10_000;
const T0 = Date.UTC(2026, 10, 22, 0, 0, 0);
const INCIDENT = 2000;
const LAG = 18; // the API follows the database by 3 minutes

/** Database latency jumps at INCIDENT; API latency follows LAG steps later; both recover after `len` steps. */
function series(from: number, to: number, len: number) {
  const bump = (i: number) => (i >= INCIDENT && i < INCIDENT + len ? 1 : 0);
  const tsMs: number[] = [];
  const db: number[] = [];
  const api: number[] = [];
  for (let i = from; i < to; i++) {
    tsMs.push(T0 + i * STEP);
    db.push(20 + 2 * noise(i, 1) + 200 * bump(i));
    api.push(100 + 6 * noise(i, 2) + 500 * bump(i - LAG));
  }
  return [
    { metric: "db_latency_ms", labels: { service: "shop" }, kind: "gauge" as const, group: "shop", tsMs, values: db },
    { metric: "api_latency_ms", labels: { service: "shop" }, kind: "gauge" as const, group: "shop", tsMs, values: api },
  ];
}

/** What the worker does with new samples: score them, and fold them into the 1-minute rollup (charts, explain). */
async function drain(pipeline: DetectPipeline, nowMs: number) {
  while ((await pipeline.tick(nowMs)) > 0) {
    /* drain */
  }
  while ((await rollupPending()) > 0) {
    /* drain */
  }
}

describe.each(availableBackends())("alert dispatch on %s", (backend) => {
  let tdb: TestDatabase;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  const pipeline = new DetectPipeline(createEngine(), 0, STEP, 5000);
  const END = INCIDENT + LAG + 8; // the API anomaly is still running at the end of the first batch

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    rx = await startReceiver();
  });
  afterAll(async () => {
    await rx?.close();
    await tdb?.drop();
  });

  it("sends one webhook with context for a real anomaly, and does not resend it", async () => {
    const rule = await createRule({
      name: "api latency",
      url: `${rx.url}/hook`,
      minSeverity: "low",
      metric: "api_*",
      headers: { "X-Omen-Test": "yes" },
      cooldownSec: 0,
    });
    await ingestSeries("shop", "remote_write", series(0, END, 10_000), Date.now());
    await drain(pipeline, T0 + END * STEP + 60_000);
    const streams = await listStreams();
    const apiId = streams.find((s) => s.metric === "api_latency_ms")!.id;
    const dbId = streams.find((s) => s.metric === "db_latency_ms")!.id;
    const anomaly = (await listAnomalies({ streamId: apiId })).rows.find((a) => a.startMs >= T0 + INCIDENT * STEP);
    expect(anomaly).toBeDefined();
    expect(anomaly!.endMs).toBeNull();

    const stats = await dispatchAlerts({ baseUrl: BASE });
    expect(stats.sent).toBe(1);
    expect(rx.received).toHaveLength(1);
    const got = rx.received[0]!;
    expect(got.path).toBe("/hook");
    expect(got.headers["content-type"]).toBe("application/json");
    expect(got.headers["x-omen-test"]).toBe("yes");
    const body = got.body as { event: string; test: boolean; rule: { id: number; name: string }; anomaly: Record<string, unknown>; probableOrigin: { stream: string; streamId: number } | null };
    expect(body.event).toBe("opened");
    expect(body.test).toBe(false);
    expect(body.rule).toEqual({ id: rule.id, name: "api latency" });
    expect(body.anomaly).toMatchObject({
      id: anomaly!.id,
      url: `${BASE}/anomalies/${anomaly!.id}`,
      stream: 'api_latency_ms{service="shop"}',
      metric: "api_latency_ms",
      source: "shop",
      group: "shop",
      severity: anomaly!.severity,
      score: anomaly!.peakScore,
      type: anomaly!.type,
      startsAt: new Date(anomaly!.startMs).toISOString(),
      endsAt: null,
    });
    expect(typeof body.anomaly.summary).toBe("string");
    expect((body.anomaly.summary as string).length).toBeGreaterThan(0);
    // Names, not ids; a latency's expected range never below zero.
    expect(body.anomaly.summary).toContain('anomaly on api_latency_ms{service="shop"}');
    expect(body.anomaly.summary).not.toContain(`anomaly on ${apiId}:`);
    const range = /\[(\S+), (\S+)\]/.exec(body.anomaly.summary as string);
    if (range) expect(Number(range[1])).toBeGreaterThanOrEqual(0);
    expect(body.anomaly.actual).toBeGreaterThan(400);
    expect(body.anomaly.expected).toBeGreaterThan(50);
    expect(body.anomaly.expected).toBeLessThan(200);
    expect(body.probableOrigin).toMatchObject({ streamId: dbId, stream: 'db_latency_ms{service="shop"}' });

    // Idempotent: another round finds nothing new to send.
    const again = await dispatchAlerts({ baseUrl: BASE });
    expect(again.sent + again.enqueued + again.failed).toBe(0);
    expect(rx.received).toHaveLength(1);
    const log = await listDeliveries();
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ event: "opened", status: "sent", attempts: 1, httpStatus: 200, ruleName: "api latency" });
  });

  it("records a failed resolve notification and retries it with backoff until the receiver recovers", async () => {
    // The incident ends: normal data closes the anomaly in the real pipeline.
    await ingestSeries("shop", "remote_write", series(END, END + 120, 40), Date.now());
    await drain(pipeline, T0 + (END + 120) * STEP + 60_000);
    const apiId = (await listStreams()).find((s) => s.metric === "api_latency_ms")!.id;
    const anomaly = (await listAnomalies({ streamId: apiId })).rows.find((a) => a.startMs >= T0 + INCIDENT * STEP)!;
    expect(anomaly.endMs).not.toBeNull();

    rx.state.status = 500;
    const now = Date.now();
    const first = await dispatchAlerts({ baseUrl: BASE, nowMs: now });
    expect(first).toMatchObject({ enqueued: 1, sent: 0, failed: 1 });
    expect(rx.received).toHaveLength(2);
    expect(rx.received[1]!.body).toMatchObject({ event: "resolved", anomaly: { id: anomaly.id, endsAt: new Date(anomaly.endMs!).toISOString() } });
    let resolved = (await listDeliveries()).find((d) => d.event === "resolved")!;
    expect(resolved).toMatchObject({ status: "failed", attempts: 1, httpStatus: 500 });
    expect(resolved.error).toContain("HTTP 500");
    expect(resolved.nextAttemptAtMs).toBeCloseTo(now + 30_000, -2);

    // Not due yet: nothing is sent before the backoff elapses.
    const early = await dispatchAlerts({ baseUrl: BASE, nowMs: now + 10_000 });
    expect(early.sent + early.failed).toBe(0);
    expect(rx.received).toHaveLength(2);

    // Still failing at the first retry: the wait doubles.
    const second = await dispatchAlerts({ baseUrl: BASE, nowMs: now + 31_000 });
    expect(second.failed).toBe(1);
    resolved = (await listDeliveries()).find((d) => d.event === "resolved")!;
    expect(resolved).toMatchObject({ status: "failed", attempts: 2 });
    expect(resolved.nextAttemptAtMs).toBeCloseTo(now + 31_000 + 60_000, -2);

    rx.state.status = 200;
    const third = await dispatchAlerts({ baseUrl: BASE, nowMs: now + 92_000 });
    expect(third.sent).toBe(1);
    expect(rx.received).toHaveLength(4);
    resolved = (await listDeliveries()).find((d) => d.event === "resolved")!;
    expect(resolved).toMatchObject({ status: "sent", attempts: 3, httpStatus: 200, error: null, nextAttemptAtMs: null });

    // Nothing further: no duplicate resolve, no new opening.
    const after = await dispatchAlerts({ baseUrl: BASE, nowMs: now + 600_000 });
    expect(after.sent + after.failed + after.enqueued).toBe(0);
    expect(rx.received).toHaveLength(4);
  });

  it("escalates an announced anomaly as its severity rises and suppresses new ones within the cooldown", async () => {
    await ingestSeries("queues", "remote_write", [{ metric: "queue_depth", labels: { queue: "mail" }, kind: "gauge", tsMs: [T0], values: [1] }], Date.now());
    const streamId = (await listStreams()).find((s) => s.metric === "queue_depth")!.id;
    await createRule({ name: "queues", url: rx.url, minSeverity: "low", metric: "queue", cooldownSec: 600, channel: "alertmanager" });
    const event = (engineId: string, severity: AnomalyUpsert["severity"], peakScore: number): AnomalyUpsert => ({
      engineId,
      streamId,
      streamIds: [streamId],
      startMs: T0,
      endMs: null,
      peakScore,
      severity,
      type: "collective",
      explanation: { summary: `queue backlog (${severity})` },
    });
    const posts = () => rx.received.filter((r) => r.path === "/api/v2/alerts").map((r) => r.body as unknown as { labels: Record<string, string>; endsAt?: string }[]);

    await upsertAnomalies([event("q-1", "low", 10)]);
    expect(await dispatchAlerts({ baseUrl: BASE })).toMatchObject({ sent: 1 });
    expect(posts()).toHaveLength(1);
    expect(posts()[0]![0]!.labels).toMatchObject({ alertname: "OmenAnomaly", severity: "low", queue: "mail", omen_rule: "queues" });

    await upsertAnomalies([event("q-1", "medium", 20)]);
    expect(await dispatchAlerts({ baseUrl: BASE })).toMatchObject({ sent: 1 });
    await upsertAnomalies([event("q-1", "high", 30)]);
    expect(await dispatchAlerts({ baseUrl: BASE })).toMatchObject({ sent: 1 });
    // Same severity again: nothing new.
    await upsertAnomalies([event("q-1", "high", 31)]);
    expect(await dispatchAlerts({ baseUrl: BASE })).toMatchObject({ sent: 0, enqueued: 0 });
    const [, medium, high] = posts();
    expect(medium!.map((a) => [a.labels.severity, a.endsAt === undefined])).toEqual([
      ["medium", true],
      ["low", false],
    ]);
    expect(high!.map((a) => [a.labels.severity, a.endsAt === undefined])).toEqual([
      ["high", true],
      ["low", false],
      ["medium", false],
    ]);
    expect((high![0] as unknown as { annotations: { summary: string } }).annotations.summary).toMatch(/^\[MEDIUM → HIGH\] incident #\d+ escalated/);
    const escalation = (await listDeliveries()).find((d) => d.ruleName === "queues" && d.event === "escalated")!;
    expect(escalation).toMatchObject({ severity: "high", status: "sent", attempts: 1 });

    // The anomaly ends: its incident closes and the resolution goes out.
    await upsertAnomalies([{ ...event("q-1", "high", 31), endMs: T0 + 60_000 }]);
    expect(await dispatchAlerts({ baseUrl: BASE })).toMatchObject({ sent: 1 });
    expect(posts()).toHaveLength(4);
    // A new incident on the same stream within the cooldown is recorded, not sent. (It starts
    // past the grouping slack after the first ended: sooner, it would reopen the first.)
    await upsertAnomalies([{ ...event("q-2", "high", 50), startMs: T0 + 10 * 60_000 }]);
    expect(await dispatchAlerts({ baseUrl: BASE })).toMatchObject({ sent: 0, suppressed: 1 });
    expect(posts()).toHaveLength(4);
    const log = (await listDeliveries({ limit: 500 })).filter((d) => d.ruleName === "queues");
    expect(log.map((d) => `${d.event}:${d.status}`).sort()).toEqual(["escalated:sent", "opened:sent", "opened:suppressed", "resolved:sent"]);
    expect(new Set(log.map((d) => d.incidentId)).size).toBe(2);
  });

  it("sends a test payload and reports the receiver's answer", async () => {
    const ok = await sendTestAlert({ name: "t", channel: "slack", url: `${rx.url}/slack`, headers: {} }, { baseUrl: BASE });
    expect(ok).toMatchObject({ ok: true, httpStatus: 200, error: null });
    expect(rx.received.at(-1)!.body).toHaveProperty("blocks");
    rx.state.status = 500;
    const bad = await sendTestAlert({ name: "t", channel: "webhook", url: `${rx.url}/x`, headers: {} }, { baseUrl: BASE });
    expect(bad).toMatchObject({ ok: false, httpStatus: 500 });
    expect(bad.error).toContain("receiver down");
    rx.state.status = 200;
    const dead = await sendTestAlert({ name: "t", channel: "webhook", url: "http://127.0.0.1:9/", headers: {} }, { baseUrl: BASE });
    expect(dead.ok).toBe(false);
    expect(dead.httpStatus).toBeNull();
    expect(dead.error).toMatch(/^Could not reach http:\/\/127\.0\.0\.1:\d+\.$/);
  });
});
