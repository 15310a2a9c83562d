import { describe, expect, it } from "vitest";
import {
  alertTitle,
  anomalyLink,
  buildAlertmanagerPayload,
  buildPayload,
  buildSlackPayload,
  buildWebhookPayload,
  deliveryUrl,
  publicBaseUrl,
  sampleContext,
  type AlertContext,
} from "./payloads";

const START = Date.UTC(2026, 10, 22, 10, 0, 0);
const NOW = START + 300_000;

const ctx = (over: Partial<AlertContext> = {}, a: Partial<AlertContext["anomaly"]> = {}): AlertContext => ({
  event: "opened",
  test: false,
  rule: { id: 7, name: "api latency" },
  anomaly: {
    id: "a-1",
    streamKey: 'api_latency_ms{route="/pay"}',
    metric: "api_latency_ms",
    labels: { route: "/pay" },
    source: "shop",
    group: "api",
    severity: "high",
    previousSeverity: null,
    peakScore: 97.25,
    type: "point",
    status: "open",
    startMs: START,
    endMs: null,
    summary: "value 612 far above the usual 118 ± 9",
    expected: 118.04,
    actual: 612,
    ...a,
  },
  origin: { streamId: 3, streamKey: "db_latency_ms", leadSec: 180 },
  link: "http://omen.example/anomalies/a-1",
  ...over,
});

describe("links", () => {
  it("prefers OMEN_PUBLIC_URL and trims trailing slashes", () => {
    expect(publicBaseUrl({ OMEN_PUBLIC_URL: "https://omen.example/", HOST: "127.0.0.1", PORT: 3000 })).toBe("https://omen.example");
    expect(publicBaseUrl({ HOST: "127.0.0.1", PORT: 3000 })).toBe("http://127.0.0.1:3000");
    expect(publicBaseUrl({ OMEN_PUBLIC_URL: "", HOST: "::1", PORT: 80 })).toBe("http://[::1]:80");
    expect(anomalyLink("http://h:1/", "x y")).toBe("http://h:1/anomalies/x%20y");
  });
  it("appends /api/v2/alerts to a bare Alertmanager URL only", () => {
    expect(deliveryUrl("alertmanager", "http://am:9093")).toBe("http://am:9093/api/v2/alerts");
    expect(deliveryUrl("alertmanager", "http://am:9093/custom/api/v2/alerts")).toBe("http://am:9093/custom/api/v2/alerts");
    expect(deliveryUrl("webhook", "http://h/")).toBe("http://h/");
  });
});

describe("alertTitle", () => {
  it("names severity, event, stream, type and score", () => {
    expect(alertTitle(ctx())).toBe('[HIGH] anomaly opened on api_latency_ms{route="/pay"} (point, score 97.25)');
    expect(alertTitle(ctx({ event: "escalated", test: true }, { previousSeverity: "medium" }))).toBe(
      '[TEST] [MEDIUM → HIGH] anomaly escalated on api_latency_ms{route="/pay"} (point, score 97.25)',
    );
  });
});

describe("buildWebhookPayload", () => {
  it("carries every piece of context", () => {
    const p = buildWebhookPayload(ctx());
    expect(p).toEqual({
      version: 2,
      source: "omen",
      event: "opened",
      sequence: 1,
      test: false,
      title: '[HIGH] anomaly opened on api_latency_ms{route="/pay"} (point, score 97.25)',
      rule: { id: 7, name: "api latency" },
      anomaly: {
        id: "a-1",
        url: "http://omen.example/anomalies/a-1",
        stream: 'api_latency_ms{route="/pay"}',
        metric: "api_latency_ms",
        labels: { route: "/pay" },
        source: "shop",
        group: "api",
        severity: "high",
        previousSeverity: null,
        score: 97.25,
        type: "point",
        status: "open",
        startsAt: "2026-11-22T10:00:00.000Z",
        endsAt: null,
        summary: "value 612 far above the usual 118 ± 9",
        expected: 118.04,
        actual: 612,
      },
      incident: null,
      probableOrigin: { streamId: 3, stream: "db_latency_ms", leadSec: 180 },
    });
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
  it("describes the incident: one status, its size, a few streams; people land on the incident page", () => {
    const incident = {
      id: 12,
      url: "http://omen.example/incidents/12",
      status: "open" as const,
      type: "point" as const,
      anomalyCount: 9,
      streamCount: 9,
      streams: ['api_latency_ms{route="/pay"}', "db_latency_ms"],
      startMs: START,
      endMs: null,
    };
    const c = ctx({ incident, sequence: 3 });
    const p = buildWebhookPayload(c);
    expect(p.title).toBe('[HIGH] incident #12 opened on api_latency_ms{route="/pay"} +8 streams (point, score 97.25)');
    expect(p.sequence).toBe(3);
    expect(p.incident).toEqual({
      id: 12,
      url: "http://omen.example/incidents/12",
      status: "open",
      type: "point",
      anomalies: 9,
      streamCount: 9,
      streams: ['api_latency_ms{route="/pay"}', "db_latency_ms"],
      startsAt: "2026-11-22T10:00:00.000Z",
      endsAt: null,
    });
    const am = buildAlertmanagerPayload(c, NOW);
    expect(am[0]!.labels).toMatchObject({ incident_id: "12", anomaly_id: "a-1" });
    expect(am[0]!.generatorURL).toBe("http://omen.example/incidents/12");
    expect(JSON.stringify(buildSlackPayload(c))).toContain("http://omen.example/incidents/12");
  });
  it("reports the end of a resolved anomaly and no origin when unknown", () => {
    const p = buildWebhookPayload(ctx({ event: "resolved", origin: null }, { endMs: NOW, status: "resolved" }));
    expect(p.anomaly.endsAt).toBe(new Date(NOW).toISOString());
    expect(p.probableOrigin).toBeNull();
  });
});

describe("buildSlackPayload", () => {
  it("has a fallback text and blocks with stream, severity, value, origin and link", () => {
    const p = buildSlackPayload(ctx());
    expect(p.text).toContain("[HIGH] anomaly opened on");
    expect(p.text).toContain("actual 612 vs expected 118.04");
    expect(p.text).toContain("probable origin: db_latency_ms");
    expect(p.text).toContain("http://omen.example/anomalies/a-1");
    const json = JSON.stringify(p.blocks);
    expect(json).toContain("api_latency_ms{route=\\\"/pay\\\"}");
    expect(json).toContain("*Severity*\\nhigh");
    expect(json).toContain("actual 612 vs expected 118.04");
    expect(json).toContain("Probable origin: `db_latency_ms` (moved 180 s earlier)");
    expect(json).toContain("<http://omen.example/anomalies/a-1|");
    expect(json).toContain(`<!date^${START / 1000}^`);
    expect(p.blocks.every((b) => typeof b.type === "string")).toBe(true);
  });
  it("escapes Slack control characters in user text", () => {
    const p = buildSlackPayload(ctx({}, { summary: "a < b & c > d" }));
    expect(JSON.stringify(p.blocks)).toContain("a &lt; b &amp; c &gt; d");
  });
  it("omits the value field without expected/actual", () => {
    const p = buildSlackPayload(ctx({ origin: null }, { expected: null }));
    expect(JSON.stringify(p)).not.toContain("*Value*");
    expect(JSON.stringify(p)).not.toContain("origin");
  });
});

describe("buildAlertmanagerPayload", () => {
  it("sends one firing alert with identity labels, context annotations and no endsAt", () => {
    const [alert, ...rest] = buildAlertmanagerPayload(ctx(), NOW);
    expect(rest).toEqual([]);
    expect(alert).toEqual({
      labels: {
        alertname: "OmenAnomaly",
        severity: "high",
        metric: "api_latency_ms",
        stream: 'api_latency_ms{route="/pay"}',
        source: "shop",
        group: "api",
        anomaly_type: "point",
        anomaly_id: "a-1",
        omen_rule: "api latency",
        route: "/pay",
      },
      annotations: {
        summary: '[HIGH] anomaly opened on api_latency_ms{route="/pay"} (point, score 97.25)',
        description: "value 612 far above the usual 118 ± 9",
        score: "97.25",
        link: "http://omen.example/anomalies/a-1",
        value: "actual 612 vs expected 118.04",
        expected: "118.04",
        actual: "612",
        probable_origin: "db_latency_ms",
      },
      startsAt: "2026-11-22T10:00:00.000Z",
      generatorURL: "http://omen.example/anomalies/a-1",
    });
  });
  it("sets endsAt on resolve and ends the old severity on escalation", () => {
    const [r] = buildAlertmanagerPayload(ctx({ event: "resolved" }, { endMs: NOW - 1000 }), NOW);
    expect(r!.endsAt).toBe(new Date(NOW - 1000).toISOString());
    const esc = buildAlertmanagerPayload(ctx({ event: "escalated" }, { previousSeverity: "medium" }), NOW);
    expect(esc.map((a) => [(a.labels as Record<string, string>).severity, a.endsAt ?? null])).toEqual([
      ["high", null],
      ["low", new Date(NOW).toISOString()],
      ["medium", new Date(NOW).toISOString()],
    ]);
    const toMedium = buildAlertmanagerPayload(ctx({ event: "escalated" }, { severity: "medium", previousSeverity: "low" }), NOW);
    expect(toMedium.map((a) => (a.labels as Record<string, string>).severity)).toEqual(["medium", "low"]);
  });
  it("sanitises stream label names", () => {
    const [a] = buildAlertmanagerPayload(ctx({}, { labels: { "http.route": "/x", "9x": "y" } }), NOW);
    expect(a!.labels).toMatchObject({ http_route: "/x", _9x: "y" });
  });
});

describe("buildPayload and sampleContext", () => {
  it("dispatches by channel", () => {
    const c = sampleContext("my rule", "http://h:3000", NOW);
    expect(c.test).toBe(true);
    expect(c.link).toBe("http://h:3000/anomalies/00000000-0000-4000-8000-000000000000");
    expect((buildPayload("webhook", c, NOW) as { test: boolean }).test).toBe(true);
    expect(buildPayload("slack", c, NOW)).toHaveProperty("blocks");
    expect(Array.isArray(buildPayload("alertmanager", c, NOW))).toBe(true);
  });
});
