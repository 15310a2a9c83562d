import { OTLPMetricExporter as OTLPJsonExporter, AggregationTemporalityPreference } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as OTLPProtoExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from "@opentelemetry/sdk-metrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pool } from "../db";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";
import { startOmenServer, type OmenServer } from "../testing/omen-server";

/**
 * The official OpenTelemetry JS SDK with its OTLP/HTTP exporters (protobuf and JSON) sends
 * gauges, counters, up-down counters and histograms to Omen's /v1/metrics; they must appear as
 * streams with the documented mapping.
 */
let tdb: TestDatabase;
let omen: OmenServer;

beforeAll(async () => {
  tdb = await createTestDatabase();
  omen = await startOmenServer({ databaseUrl: tdb.url });
});
afterAll(async () => {
  await omen?.stop();
  await tdb?.drop();
});

async function streamsOf(job: string) {
  const r = await pool().query<{ metric: string; kind: string; labels: Record<string, string>; n: number; last: number }>(
    `SELECT s.metric, s.kind::text AS kind, s.labels, count(sm.*)::int AS n,
            (array_agg(sm.value ORDER BY sm.ts DESC))[1] AS last
     FROM stream s JOIN sample sm ON sm.stream_id = s.id
     WHERE s.labels->>'job' = $1 GROUP BY s.id ORDER BY s.metric`,
    [job],
  );
  return Object.fromEntries(r.rows.map((row) => [row.metric, row]));
}

async function exercise(exporter: PushMetricExporter, service: string): Promise<void> {
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ resource: resourceFromAttributes({ "service.name": service }), readers: [reader] });
  const meter = provider.getMeter("omen-test");
  const requests = meter.createCounter("http.requests");
  const inflight = meter.createUpDownCounter("http.inflight");
  const latency = meter.createHistogram("http.latency", { unit: "ms" });
  let depth = 3;
  meter.createObservableGauge("queue.depth").addCallback((r) => r.observe(depth, { queue: "jobs" }));
  for (let round = 0; round < 2; round++) {
    for (let i = 1; i <= 100; i++) {
      requests.add(1, { route: "/api" });
      latency.record(i, { route: "/api" });
    }
    inflight.add(round === 0 ? 5 : -2);
    depth += 4;
    await provider.forceFlush();
    await new Promise((r) => setTimeout(r, 1_100)); // distinct timestamps per export
  }
  await provider.shutdown();
}

describe("OpenTelemetry SDK → Omen /v1/metrics", () => {
  it.each([
    ["protobuf", "otel-proto", (url: string, headers: Record<string, string>) => new OTLPProtoExporter({ url, headers })],
    [
      "JSON (delta temporality)",
      "otel-json",
      (url: string, headers: Record<string, string>) => new OTLPJsonExporter({ url, headers, temporalityPreference: AggregationTemporalityPreference.DELTA }),
    ],
  ] as const)("%s exporter: metrics appear as streams", async (_enc, service, make) => {
    await exercise(make(`${omen.url}/v1/metrics`, { Authorization: `Bearer ${omen.token}` }), service);
    const s = await streamsOf(service);
    expect(Object.keys(s).sort()).toEqual(["http.inflight", "http.latency_count", "http.latency_p95", "http.latency_sum", "http.requests", "queue.depth"]);
    expect(s["queue.depth"]).toMatchObject({ kind: "gauge", last: 11, labels: { job: service, queue: "jobs" } });
    expect(s["queue.depth"]!.n).toBeGreaterThanOrEqual(2); // two flushes (+ one at shutdown)
    expect(s["http.inflight"]).toMatchObject({ kind: "gauge", last: 3 });
    expect(s["http.latency_p95"]!.kind).toBe("gauge");
    // 100 observations 1..100 per interval; default bounds …50, 75, 100…: p95 falls in (75, 100]
    expect(s["http.latency_p95"]!.last).toBeGreaterThan(75);
    expect(s["http.latency_p95"]!.last).toBeLessThanOrEqual(100);
    if (service === "otel-proto") {
      // cumulative: counters stored raw, the engine scores their rate
      expect(s["http.requests"]).toMatchObject({ kind: "counter", last: 200, labels: { job: service, route: "/api" } });
      expect(s["http.latency_count"]).toMatchObject({ kind: "counter", last: 200 });
      expect(s["http.latency_sum"]).toMatchObject({ kind: "counter", last: 10_100 });
    } else {
      // delta: converted to per-second rates
      expect(s["http.requests"]!.kind).toBe("gauge");
      expect(s["http.requests"]!.last).toBeGreaterThan(0);
      expect(s["http.latency_count"]!.kind).toBe("gauge");
    }
  });
});
