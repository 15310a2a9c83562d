import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { upsertAnomalies, type AnomalyUpsert } from "../../repos/anomalies-repo";
import { listDeliveries } from "../../repos/alerts-repo";
import { getIncident } from "../../repos/incidents-repo";
import { listStreams } from "../../repos/streams-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { createRule } from "./alert-service";
import { dispatchAlerts } from "./dispatch-service";

vi.mock("server-only", () => ({}));
const { labelIncidents } = await import("../incidents/incident-service");

interface Got {
  event: string;
  sequence: number;
  anomaly: { id: string; type: string; status: string; severity: string; stream: string };
  incident: { id: number; url: string; status: string; type: string; anomalies: number; streamCount: number; endsAt: string | null };
}

/** A real webhook receiver: keeps what it accepted (2xx only), answers `status`. */
async function startReceiver() {
  const accepted: Got[] = [];
  const state = { status: 200, calls: 0 };
  const server = http.createServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString("utf8")));
    req.on("end", () => {
      state.calls++;
      if (state.status === 200) accepted.push(JSON.parse(data) as Got);
      res.writeHead(state.status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, accepted, state, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const BASE = "http://omen.test:3000";
const MIN = 60_000;
// The event's data is fixed in the past; only the dispatcher's clock moves on from the test's start.
const T0 = Date.UTC(2025, 5, 10, 3, 0, 0);
const METRICS = ["node_load1", "node_load5", "node_cpu_busy", "node_mem_used", "node_disk_io", "node_net_rx", "node_net_tx", "node_ctx_switches", "node_procs_running"];

/**
 * Alerts on incidents: one event over 9 streams of a server is one incident, announced once; a
 * receiver that fails during the opening and escalation, then recovers, gets opened → escalated →
 * resolved in order with sequences 1, 2, 3; the type it was told never changes; "resolved" goes out
 * only once the incident's one status (what the UI shows) is resolved.
 */
describe.each(availableBackends())("incident alerts on %s", (backend) => {
  let tdb: TestDatabase;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  const ids = new Map<string, number>();
  const row = (metric: string, p: Partial<AnomalyUpsert>): AnomalyUpsert => ({
    engineId: `vm1-${metric}`,
    streamId: ids.get(metric)!,
    streamIds: [ids.get(metric)!],
    startMs: T0,
    endMs: null,
    peakScore: 60,
    severity: "low",
    type: "point",
    explanation: { summary: `point anomaly on ${ids.get(metric)}: robust-z 4.1σ` },
    ...p,
  });

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    rx = await startReceiver();
    await ingestSeries(
      "vm-1",
      "remote_write",
      METRICS.map((metric) => ({ metric, labels: { host: "vm-1" }, kind: "gauge" as const, group: "node", tsMs: [T0], values: [1] })),
      T0,
    );
    for (const s of await listStreams({ limit: 100 })) ids.set(s.metric, s.id);
  });
  afterAll(async () => {
    await rx.close();
    await tdb.drop();
  });

  it("announces one incident for an event over 9 streams, in order, to a receiver that fails then recovers", async () => {
    await createRule({ name: "everything", url: rx.url, minSeverity: "low", cooldownSec: 0, notifyResolve: true, channel: "webhook" });
    let t = Date.now();
    rx.state.status = 500;
    // Round 1: the first 5 streams move (low).
    await upsertAnomalies(METRICS.slice(0, 5).map((m, k) => row(m, { startMs: T0 + k * 10_000 })));
    expect(await dispatchAlerts({ baseUrl: BASE, nowMs: t })).toMatchObject({ enqueued: 1, failed: 1 });
    // Round 2: the other 4 join, and one of them is high: an escalation of the same incident.
    // Meanwhile the engine re-classifies the first anomaly (point → collective).
    await upsertAnomalies([
      ...METRICS.slice(5).map((m, k) => row(m, { startMs: T0 + (5 + k) * 10_000, severity: k === 0 ? "high" : "low", peakScore: k === 0 ? 97 : 60, type: k === 0 ? "contextual" : "point" })),
      row(METRICS[0]!, { type: "collective", peakScore: 61 }),
    ]);
    t += 31_000;
    await dispatchAlerts({ baseUrl: BASE, nowMs: t });
    const log = await listDeliveries();
    expect(log.map((d) => d.event).sort()).toEqual(["escalated", "opened"]);
    expect(new Set(log.map((d) => d.incidentId)).size).toBe(1);
    const incidentId = log[0]!.incidentId;
    // The escalation waits behind the opening that has not gone through.
    expect(log.find((d) => d.event === "escalated")!.attempts).toBe(0);

    // Round 3: everything ends; the incident closes by itself.
    await upsertAnomalies(METRICS.map((m, k) => row(m, { startMs: T0 + k * 10_000, endMs: T0 + 10 * MIN, severity: k === 5 ? "high" : "low", peakScore: k === 5 ? 97 : 61, type: k === 0 ? "collective" : k === 5 ? "contextual" : "point" })));
    expect((await getIncident(incidentId))!).toMatchObject({ status: "resolved", resolvedBy: "auto", anomalyCount: 9 });
    t += 61_000;
    await dispatchAlerts({ baseUrl: BASE, nowMs: t });
    expect(rx.accepted).toEqual([]);

    rx.state.status = 200;
    for (let k = 0; k < 4; k++) {
      t += 300_000;
      await dispatchAlerts({ baseUrl: BASE, nowMs: t });
    }
    expect(rx.accepted.map((g) => `${g.sequence}:${g.event}:${g.incident.status}`)).toEqual(["1:opened:open", "2:escalated:open", "3:resolved:resolved"]);
    expect(rx.accepted.every((g) => g.incident.id === incidentId && g.incident.url === `${BASE}/incidents/${incidentId}`)).toBe(true);
    // One opening for the event, not one per stream.
    expect(rx.accepted.filter((g) => g.event === "opened")).toHaveLength(1);
    // The type sent first is the type sent every time, though the anomaly was re-classified.
    // (The rule's first payload described node_load1, re-classified since; the incident's strongest
    // anomaly is now a contextual one.)
    expect(new Set(rx.accepted.map((g) => g.anomaly.stream))).toEqual(new Set(['node_load1{host="vm-1"}']));
    expect(rx.accepted.map((g) => g.anomaly.type)).toEqual(["point", "point", "point"]);
    expect(rx.accepted.map((g) => g.incident.type)).toEqual(["point", "point", "point"]);
    // The UI shows the same frozen type.
    expect((await getIncident(incidentId))!.type).toBe("point");
    // The escalation announces the high severity; the resolution matches what the UI shows.
    expect(rx.accepted[1]!.anomaly.severity).toBe("high");
    expect(rx.accepted[2]!.incident).toMatchObject({ status: "resolved", anomalies: 9, streamCount: 9, endsAt: new Date(T0 + 10 * MIN).toISOString() });
    expect(rx.accepted[2]!.anomaly.status).toBe("resolved");

    // Nothing more: no duplicate, no reopening after the announced resolution.
    const calls = rx.state.calls;
    await dispatchAlerts({ baseUrl: BASE, nowMs: t + 600_000 });
    expect(rx.state.calls).toBe(calls);
  });

  it("reopening after the announced resolution (a new anomaly joins, or a member goes on again) is announced with the next sequence", async () => {
    let t = Date.now() + 3_600_000;
    const before = rx.accepted.length;
    const first = rx.accepted[0]!.incident.id;
    const seen = () => rx.accepted.slice(before).map((g) => `${g.sequence}:${g.event}:${g.incident.status}`);
    const round = async (ms: number) => {
      t += ms;
      await dispatchAlerts({ baseUrl: BASE, nowMs: t });
    };
    // A new anomaly a minute after the incident ended joins it: the incident opens again, and the
    // receiver, failing at first, gets "reopened" (4) after the "resolved" (3) it holds.
    rx.state.status = 503;
    await upsertAnomalies([{ ...row("node_load1", { startMs: T0 + 11 * MIN }), engineId: "vm1-load-again" }]);
    expect((await getIncident(first))!).toMatchObject({ status: "open", anomalyCount: 10, endMs: null });
    await round(1_000);
    expect(rx.accepted.length).toBe(before);
    rx.state.status = 200;
    await round(300_000);
    expect(seen()).toEqual(["4:reopened:open"]);
    expect(rx.accepted.at(-1)!.incident.id).toBe(first);
    // It ends: resolved again (5).
    await upsertAnomalies([{ ...row("node_load1", { startMs: T0 + 11 * MIN, endMs: T0 + 13 * MIN }), engineId: "vm1-load-again" }]);
    expect((await getIncident(first))!.status).toBe("resolved");
    await round(1_000);
    expect(seen()).toEqual(["4:reopened:open", "5:resolved:resolved"]);
    // One of its anomalies goes on again (the engine extends it): reopened (6).
    await upsertAnomalies([{ ...row("node_load1", { startMs: T0 + 11 * MIN, endMs: null }), engineId: "vm1-load-again" }]);
    expect((await getIncident(first))!.status).toBe("open");
    await round(1_000);
    expect(seen()).toEqual(["4:reopened:open", "5:resolved:resolved", "6:reopened:open"]);
    // A false-positive label resolves it for the receiver too (7); nothing follows.
    await labelIncidents([first], "false_positive", null, "sre");
    expect((await getIncident(first))!.status).toBe("resolved");
    await round(1_000);
    await round(600_000);
    expect(seen()).toEqual(["4:reopened:open", "5:resolved:resolved", "6:reopened:open", "7:resolved:resolved"]);
    expect(rx.accepted.every((g) => g.incident.id === first)).toBe(true);
    // Resolved by a person: closed for good, a later anomaly nearby is a new incident.
    await upsertAnomalies([{ ...row("node_load5", { startMs: T0 + 14 * MIN }), engineId: "vm1-load5-later" }]);
    expect((await getIncident(first))!).toMatchObject({ status: "resolved", anomalyCount: 10 });
    await round(1_000);
    expect(rx.accepted.at(-1)).toMatchObject({ sequence: 1, event: "opened" });
    expect(rx.accepted.at(-1)!.incident.id).not.toBe(first);
  });
  it("every escalation carries a new sequence: low → medium → high → resolved is 1, 2, 3, 4", async () => {
    let t = Date.now() + 10 * 3_600_000;
    const before = rx.accepted.length;
    const round = async () => {
      t += 1_000;
      await dispatchAlerts({ baseUrl: BASE, nowMs: t });
    };
    await ingestSeries("vm-2", "remote_write", [{ metric: "node_load1", labels: { host: "vm-2" }, kind: "gauge", group: "node", tsMs: [T0], values: [1] }], T0);
    const streamId = (await listStreams({ limit: 100 })).find((s) => s.key === 'node_load1{host="vm-2"}')!.id;
    const anomaly = (p: Partial<AnomalyUpsert>): AnomalyUpsert => ({ ...row("node_load1", p), engineId: "vm2-load", streamId, streamIds: [streamId] });
    await upsertAnomalies([anomaly({ startMs: T0 + 20 * MIN, severity: "low", peakScore: 61 })]);
    await round();
    await upsertAnomalies([anomaly({ startMs: T0 + 20 * MIN, severity: "medium", peakScore: 85 })]);
    await round();
    await upsertAnomalies([anomaly({ startMs: T0 + 20 * MIN, severity: "high", peakScore: 97 })]);
    await round();
    await upsertAnomalies([anomaly({ startMs: T0 + 20 * MIN, endMs: T0 + 25 * MIN, severity: "high", peakScore: 97 })]);
    await round();
    const got = rx.accepted.slice(before);
    expect(got.map((g) => `${g.sequence}:${g.event}:${g.anomaly.severity}`)).toEqual(["1:opened:low", "2:escalated:medium", "3:escalated:high", "4:resolved:high"]);
    expect(new Set(got.map((g) => g.incident.id)).size).toBe(1);
  });
});
