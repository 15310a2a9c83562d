import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { pool } from "../../db";
import { getAnomaly, listAnomalies, upsertAnomalies, type AnomalyUpsert } from "../../repos/anomalies-repo";
import { getIncident, listIncidents } from "../../repos/incidents-repo";
import { listFeedback } from "../../repos/feedback-repo";
import { listStreams } from "../../repos/streams-repo";
import { incidentOf } from "../../testing/incident-of";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";

vi.mock("server-only", () => ({}));
const { changeIncidentStatus, incidentDetail, labelIncidents, setIncidentStatusMatching } = await import("./incident-service");

const MIN = 60_000;
// Fixed in the past: nothing here depends on today's date.
const T0 = Date.UTC(2025, 2, 3, 14, 0, 0);

/**
 * Incidents are stored when anomalies are written: overlapping anomalies of one source and group
 * form one incident with one status, a replayed write keeps its incident, and triage on the
 * incident reaches its anomalies.
 */
describe.each(availableBackends())("incidents on %s", (backend) => {
  let tdb: TestDatabase;
  const id = new Map<string, number>();
  const row = (engineId: string, key: string, p: Partial<AnomalyUpsert>): AnomalyUpsert => ({
    engineId,
    streamId: id.get(key)!,
    streamIds: [id.get(key)!],
    startMs: T0,
    endMs: null,
    peakScore: 70,
    severity: "low",
    type: "point",
    explanation: {},
    ...p,
  });

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    const s = (metric: string, host: string, group: string) => ({ metric, labels: { host }, kind: "gauge" as const, group, tsMs: [T0], values: [1] });
    await ingestSeries("fleet", "remote_write", [
      s("node_load1", "web1", "web"),
      s("node_cpu", "web1", "web"),
      s("node_net_rx", "web1", "web"),
      s("node_load1", "db1", "db"),
    ], T0);
    await ingestSeries("shop", "remote_write", [{ metric: "checkout_errors", labels: {}, kind: "gauge", tsMs: [T0], values: [1] }], T0);
    for (const st of await listStreams({ limit: 100 })) id.set(st.key, st.id);
  });
  afterAll(async () => tdb.drop());

  it("groups overlapping anomalies of one source and group into one incident, apart from other groups and sources", async () => {
    // Written in two rounds, as the worker does: the second round's anomalies join the open incident.
    await upsertAnomalies([row("load-web1", 'node_load1{host="web1"}', { severity: "medium", peakScore: 80, startMs: T0 })]);
    await upsertAnomalies([
      row("cpu-web1", 'node_cpu{host="web1"}', { severity: "high", peakScore: 95, startMs: T0 + 2 * MIN, type: "collective" }),
      row("load-db1", 'node_load1{host="db1"}', { severity: "high", startMs: T0 + MIN }),
      row("checkout", "checkout_errors", { severity: "low", startMs: T0 + MIN }),
    ]);
    const web = await incidentOf("load-web1");
    expect(await incidentOf("cpu-web1")).toBe(web);
    expect(await incidentOf("load-db1")).not.toBe(web);
    expect(await incidentOf("checkout")).not.toBe(web);
    expect(await incidentOf("checkout")).not.toBe(await incidentOf("load-db1"));
    const inc = (await getIncident(web))!;
    expect(inc).toMatchObject({ status: "open", severity: "high", peakScore: 95, anomalyCount: 2, endMs: null, startMs: T0, type: "collective", sourceName: "fleet", group: "web" });
    expect(inc.streamIds.sort()).toEqual([id.get('node_load1{host="web1"}'), id.get('node_cpu{host="web1"}')].sort());
    expect((await listIncidents({ status: ["open"] })).total).toBe(3);
  });

  it("streams without a group are grouped by their job (service), so services sharing a source stay apart", async () => {
    const svc = (metric: string, job: string) => ({ metric, labels: { job }, kind: "gauge" as const, tsMs: [T0], values: [1] });
    await ingestSeries("otlp", "otlp", [svc("rpc_errors", "cart"), svc("rpc_latency", "cart"), svc("rpc_errors", "search")], T0);
    for (const st of await listStreams({ limit: 100 })) id.set(st.key, st.id);
    await upsertAnomalies([
      row("cart-errors", 'rpc_errors{job="cart"}', { startMs: T0 }),
      row("cart-latency", 'rpc_latency{job="cart"}', { startMs: T0 + MIN }),
      row("search-errors", 'rpc_errors{job="search"}', { startMs: T0 + MIN }),
    ]);
    expect(await incidentOf("cart-latency")).toBe(await incidentOf("cart-errors"));
    expect(await incidentOf("search-errors")).not.toBe(await incidentOf("cart-errors"));
    expect((await getIncident(await incidentOf("cart-errors")))!).toMatchObject({ sourceName: "otlp", group: "cart", anomalyCount: 2 });
    // (closed again so the counts below are about the fleet)
    await changeIncidentStatus([await incidentOf("cart-errors"), await incidentOf("search-errors")], "resolved", "test");
  });

  it("re-writing an anomaly (a replay after a crash) keeps its incident and creates no other", async () => {
    const before = (await pool().query<{ n: number }>(`SELECT count(*)::int AS n FROM incident`)).rows[0]!.n;
    const web = await incidentOf("load-web1");
    // Same engine events again, as a worker restarted from an older snapshot writes them.
    await upsertAnomalies([row("load-web1", 'node_load1{host="web1"}', { severity: "medium", peakScore: 80, startMs: T0 })]);
    await upsertAnomalies([row("cpu-web1", 'node_cpu{host="web1"}', { severity: "high", peakScore: 95, startMs: T0 + 2 * MIN, type: "collective" })]);
    expect((await pool().query<{ n: number }>(`SELECT count(*)::int AS n FROM incident`)).rows[0]!.n).toBe(before);
    expect(await incidentOf("load-web1")).toBe(web);
    expect((await getIncident(web))!.anomalyCount).toBe(2);
  });

  it("closes the incident when all its anomalies ended, with its anomalies; a later anomaly starts a new one", async () => {
    const web = await incidentOf("load-web1");
    await upsertAnomalies([row("load-web1", 'node_load1{host="web1"}', { severity: "medium", peakScore: 80, startMs: T0, endMs: T0 + 5 * MIN })]);
    expect((await getIncident(web))!.status).toBe("open");
    await upsertAnomalies([row("cpu-web1", 'node_cpu{host="web1"}', { severity: "high", peakScore: 95, startMs: T0 + 2 * MIN, endMs: T0 + 7 * MIN, type: "collective" })]);
    const closed = (await getIncident(web))!;
    expect(closed).toMatchObject({ status: "resolved", resolvedBy: "auto", endMs: T0 + 7 * MIN });
    const members = await listAnomalies({ incidentId: web });
    expect(members.rows.map((a) => a.status)).toEqual(["resolved", "resolved"]);
    // Within the slack after it ended, a new anomaly on the group still belongs to the event (nothing announced its end).
    await upsertAnomalies([row("net-web1", 'node_net_rx{host="web1"}', { startMs: T0 + 9 * MIN })]);
    expect(await incidentOf("net-web1")).toBe(web);
    expect((await getIncident(web))!).toMatchObject({ status: "open", endMs: null, anomalyCount: 3 });
    // Long after: a new incident.
    await upsertAnomalies([row("net-web1", 'node_net_rx{host="web1"}', { startMs: T0 + 9 * MIN, endMs: T0 + 10 * MIN })]);
    await upsertAnomalies([row("load-web1-later", 'node_load1{host="web1"}', { startMs: T0 + 60 * MIN })]);
    expect(await incidentOf("load-web1-later")).not.toBe(web);
  });

  it("one status for the incident and its rows: acknowledge, label false positive (resolves, feeds back), bulk over a filter", async () => {
    const db = await incidentOf("load-db1");
    await changeIncidentStatus([db], "acknowledged", "sre");
    expect((await getIncident(db))!.status).toBe("acknowledged");
    const member = (await listAnomalies({ incidentId: db })).rows[0]!;
    expect(member.status).toBe("acknowledged");
    expect((await listFeedback(member.id)).some((f) => f.comment === "incident status → acknowledged")).toBe(true);

    const later = await incidentOf("load-web1-later");
    const r = await labelIncidents([later], "false_positive", "deploy noise", "sre");
    expect(r).toEqual({ updated: 1, anomalies: 1 });
    expect((await getIncident(later))!).toMatchObject({ label: "false_positive", status: "resolved", resolvedBy: "sre" });
    const a = (await listAnomalies({ incidentId: later })).rows[0]!;
    expect(a).toMatchObject({ label: "false_positive", status: "resolved" });
    // The label is a feedback row the worker applies to the detectors.
    expect((await listFeedback(a.id)).some((f) => f.label === "false_positive")).toBe(true);
    // A person's resolution sticks: the anomaly running on is re-written, the incident stays resolved.
    await upsertAnomalies([row("load-web1-later", 'node_load1{host="web1"}', { startMs: T0 + 60 * MIN, peakScore: 90 })]);
    expect((await getIncident(later))!.status).toBe("resolved");

    const detail = await incidentDetail(db);
    expect(detail.anomalies.map((x) => x.id)).toEqual([member.id]);
    expect(detail.streams.map((s) => s.key)).toEqual(['node_load1{host="db1"}']);

    const bulk = await setIncidentStatusMatching({ status: ["open", "acknowledged"], search: "host=db1" }, "resolved", "sre");
    expect(bulk.updated).toBe(1);
    expect((await getIncident(db))!).toMatchObject({ status: "resolved", resolvedBy: "sre" });
    expect((await getAnomaly(member.id))!.status).toBe("resolved");
    // The shop incident was outside the filter.
    expect((await getIncident(await incidentOf("checkout")))!.status).toBe("open");
  });

  it("history from an import groups into incidents marked historical, and a large batch groups in one write", async () => {
    const key = "checkout_errors";
    const old = Date.UTC(2024, 0, 1);
    // 40 anomalies of last year in one write: two bursts an hour apart.
    await upsertAnomalies(
      Array.from({ length: 40 }, (_, i) =>
        row(`hist-${i}`, key, { startMs: old + (i < 20 ? i : 60 + i) * MIN, endMs: old + (i < 20 ? i : 60 + i) * MIN + 30_000, severity: "high" }),
      ),
    );
    const hist = await listIncidents({ historical: true, toMs: old + 200 * MIN });
    expect(hist.total).toBe(2);
    expect(hist.rows.map((r) => r.anomalyCount).sort()).toEqual([20, 20]);
    expect(hist.rows.every((r) => r.status === "resolved")).toBe(true);
    // Rows written minutes after their data are live: the shop incident still going on is not history.
    await upsertAnomalies([row("live-now", key, { startMs: Date.now() - MIN })]);
    expect((await listIncidents({ historical: false, search: key })).rows.map((r) => r.anomalyCount)).toEqual([1]);
  });
});
