import type { TAnomalyStatus, TAnomalyType, TLabels, TSeverity } from "@/lib/schemas/stream";
import type { TAlertChannel, TAlertEvent } from "./schema";

/** Everything an alert says about one anomaly event; built by the dispatcher, rendered per channel. */
export interface AlertContext {
  event: TAlertEvent;
  /** True for "Send test" payloads. */
  test: boolean;
  /** Order of this state among the rule's deliveries for the anomaly (1 = opened). */
  sequence?: number;
  rule: { id: number | null; name: string };
  anomaly: {
    id: string;
    streamKey: string;
    metric: string;
    labels: TLabels;
    source: string;
    group: string | null;
    severity: TSeverity;
    previousSeverity: TSeverity | null;
    peakScore: number;
    type: TAnomalyType;
    status: TAnomalyStatus;
    startMs: number;
    endMs: number | null;
    summary: string;
    expected: number | null;
    actual: number | null;
  };
  /** The incident the event is about (absent in "Send test" payloads). */
  incident?: {
    id: number;
    url: string;
    status: TAnomalyStatus;
    type: TAnomalyType;
    anomalyCount: number;
    streamCount: number;
    /** The first few stream keys. */
    streams: string[];
    startMs: number;
    endMs: number | null;
  };
  /** Probable origin from the causal timeline, when another stream moved first. */
  origin: { streamId: number; streamKey: string; leadSec: number | null } | null;
  link: string;
}

/** Where the anomaly pages live: OMEN_PUBLIC_URL, else the address the app listens on. */
export function publicBaseUrl(s: { OMEN_PUBLIC_URL?: string | undefined; HOST: string; PORT: number }): string {
  const base = s.OMEN_PUBLIC_URL?.trim() || `http://${s.HOST.includes(":") ? `[${s.HOST}]` : s.HOST}:${s.PORT}`;
  return base.replace(/\/+$/, "");
}

export function anomalyLink(baseUrl: string, anomalyId: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/anomalies/${encodeURIComponent(anomalyId)}`;
}

export function incidentLink(baseUrl: string, incidentId: number): string {
  return `${baseUrl.replace(/\/+$/, "")}/incidents/${incidentId}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Where a person clicking the alert lands: the incident page when there is one. */
const pageLink = (c: AlertContext) => c.incident?.url ?? c.link;

function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(3);
  return String(Math.round(x * 1000) / 1000);
}

const VERB: Record<TAlertEvent, string> = { opened: "opened", escalated: "escalated", resolved: "resolved", reopened: "reopened" };

/** One line: "[HIGH] incident #12 opened on api_latency_ms{…} +2 streams (point, score 97.2)". */
export function alertTitle(c: AlertContext): string {
  const a = c.anomaly;
  const sev = c.event === "escalated" && a.previousSeverity ? `${a.previousSeverity} → ${a.severity}` : a.severity;
  const what = c.incident ? `incident #${c.incident.id}` : "anomaly";
  const more = c.incident && c.incident.streamCount > 1 ? ` +${c.incident.streamCount - 1} ${c.incident.streamCount === 2 ? "stream" : "streams"}` : "";
  return `${c.test ? "[TEST] " : ""}[${sev.toUpperCase()}] ${what} ${VERB[c.event]} on ${a.streamKey}${more} (${a.type}, score ${num(a.peakScore)})`;
}

/** "actual 612 vs expected 118", or null without both numbers. */
export function expectedVsActual(c: AlertContext): string | null {
  const { expected, actual } = c.anomaly;
  if (expected === null || actual === null) return null;
  return `actual ${num(actual)} vs expected ${num(expected)}`;
}

/** Generic JSON webhook: a stable, versioned document. */
export function buildWebhookPayload(c: AlertContext) {
  const a = c.anomaly;
  return {
    version: 2,
    source: "omen",
    event: c.event,
    sequence: c.sequence ?? 1,
    test: c.test,
    title: alertTitle(c),
    rule: c.rule,
    anomaly: {
      id: a.id,
      url: c.link,
      stream: a.streamKey,
      metric: a.metric,
      labels: a.labels,
      source: a.source,
      group: a.group,
      severity: a.severity,
      previousSeverity: a.previousSeverity,
      score: a.peakScore,
      type: a.type,
      status: a.status,
      startsAt: iso(a.startMs),
      endsAt: a.endMs === null ? null : iso(a.endMs),
      summary: a.summary,
      expected: a.expected,
      actual: a.actual,
    },
    incident: c.incident
      ? {
          id: c.incident.id,
          url: c.incident.url,
          status: c.incident.status,
          type: c.incident.type,
          anomalies: c.incident.anomalyCount,
          streamCount: c.incident.streamCount,
          streams: c.incident.streams,
          startsAt: iso(c.incident.startMs),
          endsAt: c.incident.endMs === null ? null : iso(c.incident.endMs),
        }
      : null,
    probableOrigin: c.origin ? { streamId: c.origin.streamId, stream: c.origin.streamKey, leadSec: c.origin.leadSec } : null,
  };
}

/** Slack incoming webhook: `text` (notifications, fallback) plus Block Kit blocks. */
export function buildSlackPayload(c: AlertContext) {
  const a = c.anomaly;
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const ea = expectedVsActual(c);
  const fields = [
    `*Stream*\n\`${esc(a.streamKey)}\``,
    `*Severity*\n${a.previousSeverity && c.event === "escalated" ? `${a.previousSeverity} → ` : ""}${a.severity}`,
    `*Type / score*\n${a.type} · ${num(a.peakScore)}`,
    `*Started*\n<!date^${Math.floor(a.startMs / 1000)}^{date_short_pretty} {time_secs}|${iso(a.startMs)}>`,
    `*Source*\n${esc(a.source)}${a.group ? ` · ${esc(a.group)}` : ""}`,
  ];
  if (ea) fields.push(`*Value*\n${ea}`);
  const lines = [a.summary ? esc(a.summary) : null, c.origin ? `Probable origin: \`${esc(c.origin.streamKey)}\`${c.origin.leadSec ? ` (moved ${num(c.origin.leadSec)} s earlier)` : ""}` : null].filter(
    (x): x is string => x !== null,
  );
  const blocks: Record<string, unknown>[] = [
    { type: "section", text: { type: "mrkdwn", text: `*<${pageLink(c)}|${esc(alertTitle(c))}>*` } },
    { type: "section", fields: fields.map((text) => ({ type: "mrkdwn", text })) },
  ];
  if (lines.length) blocks.push({ type: "section", text: { type: "mrkdwn", text: lines.join("\n") } });
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `Omen rule *${esc(c.rule.name)}* · <${pageLink(c)}|open in Omen>` }] });
  const text = [alertTitle(c), a.summary, ea, c.origin ? `probable origin: ${c.origin.streamKey}` : null, pageLink(c)].filter(Boolean).join(" — ");
  return { text, blocks };
}

/** Alertmanager label names: [a-zA-Z_][a-zA-Z0-9_]*. */
function labelName(k: string): string {
  const s = k.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[a-zA-Z_]/.test(s) ? s : `_${s}`;
}

/**
 * Alertmanager `POST /api/v2/alerts` body (a list). The anomaly id is a label so each anomaly is
 * its own alert; a firing alert has no endsAt (Alertmanager's resolve_timeout applies until the
 * resolve arrives). An escalation also ends the alerts with lower severity labels, so
 * severity-routed receivers do not keep a stale one firing.
 */
const SEVERITY_ORDER: Record<TSeverity, number> = { low: 1, medium: 2, high: 3 };

export function buildAlertmanagerPayload(c: AlertContext, nowMs: number) {
  const a = c.anomaly;
  const labels = (severity: TSeverity): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(a.labels)) out[labelName(k)] = v;
    Object.assign(out, {
      alertname: c.test ? "OmenTestAlert" : "OmenAnomaly",
      severity,
      metric: a.metric,
      stream: a.streamKey,
      source: a.source,
      anomaly_type: a.type,
      anomaly_id: a.id,
      omen_rule: c.rule.name,
    });
    if (c.incident) out.incident_id = String(c.incident.id);
    if (a.group) out.group = a.group;
    return out;
  };
  const ea = expectedVsActual(c);
  const annotations: Record<string, string> = {
    summary: alertTitle(c),
    description: a.summary,
    score: num(a.peakScore),
    link: pageLink(c),
  };
  if (ea) annotations.value = ea;
  if (a.expected !== null) annotations.expected = num(a.expected);
  if (a.actual !== null) annotations.actual = num(a.actual);
  if (c.origin) annotations.probable_origin = c.origin.streamKey;
  const current: Record<string, unknown> = {
    labels: labels(a.severity),
    annotations,
    startsAt: iso(a.startMs),
    generatorURL: pageLink(c),
  };
  if (c.event === "resolved") current.endsAt = iso(a.endMs ?? nowMs);
  const out = [current];
  if (c.event === "escalated") {
    // End every lower severity (Alertmanager does not notify about an alert that never fired).
    for (const sev of ["low", "medium", "high"] as const) {
      if (SEVERITY_ORDER[sev] >= SEVERITY_ORDER[a.severity]) continue;
      out.push({ labels: labels(sev), annotations, startsAt: iso(a.startMs), endsAt: iso(nowMs), generatorURL: pageLink(c) });
    }
  }
  return out;
}

export function buildPayload(channel: TAlertChannel, c: AlertContext, nowMs: number): unknown {
  if (channel === "slack") return buildSlackPayload(c);
  if (channel === "alertmanager") return buildAlertmanagerPayload(c, nowMs);
  return buildWebhookPayload(c);
}

/** Alertmanager receives on /api/v2/alerts; a bare base URL gets the path appended. */
export function deliveryUrl(channel: TAlertChannel, url: string): string {
  if (channel !== "alertmanager") return url;
  const u = new URL(url);
  if (u.pathname === "/" || u.pathname === "") u.pathname = "/api/v2/alerts";
  return u.toString();
}

/** The sample anomaly that "Send test" posts. */
export function sampleContext(ruleName: string, baseUrl: string, nowMs: number): AlertContext {
  const id = "00000000-0000-4000-8000-000000000000";
  return {
    event: "opened",
    test: true,
    rule: { id: null, name: ruleName || "test" },
    anomaly: {
      id,
      streamKey: 'http_request_duration_seconds{job="omen-test"}',
      metric: "http_request_duration_seconds",
      labels: { job: "omen-test" },
      source: "omen",
      group: null,
      severity: "high",
      previousSeverity: null,
      peakScore: 97.5,
      type: "point",
      status: "open",
      startMs: nowMs - 60_000,
      endMs: null,
      summary: "Test alert from Omen: this is what an anomaly notification looks like.",
      expected: 0.12,
      actual: 0.87,
    },
    origin: { streamId: 0, streamKey: 'db_query_duration_seconds{job="omen-test"}', leadSec: 40 },
    link: anomalyLink(baseUrl, id),
  };
}
