import { anomalyLink, incidentLink, type AlertContext } from "@/lib/alerts/payloads";
import type { TAlertEvent } from "@/lib/alerts/schema";
import type { TAnomalyStatus, TAnomalyType, TSeverity } from "@/lib/schemas/stream";
import { readableSummary } from "@/lib/alerts/summary";
import { clipToDomain, domainFloor } from "@/lib/triage/domain";
import { expectedVsActual, type AlertAnomaly, type getIncidentSummary } from "../../repos/alerts-repo";
import { explainAnomaly } from "../explain/explain-service";

/** The probable origin stream from the causal timeline, when it is another stream; null on any error. */
async function probableOrigin(a: AlertAnomaly): Promise<AlertContext["origin"]> {
  try {
    const ex = await explainAnomaly(a.id);
    if (ex.originStreamId === null || ex.originStreamId === a.streamId) return null;
    // the origin's own anomaly onset when it has one, else when its score first rose
    const entry = ex.timeline.find((e) => e.streamId === ex.originStreamId);
    const cause = ex.causes.find((c) => c.streamId === ex.originStreamId);
    const offsetSec = entry?.offsetSec ?? cause?.offsetSec ?? null;
    return {
      streamId: ex.originStreamId,
      streamKey: entry?.key ?? cause?.key ?? String(ex.originStreamId),
      leadSec: offsetSec !== null && offsetSec < 0 ? -offsetSec : null,
    };
  } catch {
    return null;
  }
}

/**
 * Everything an alert says: the incident (its one status, size and streams) and its lead anomaly
 * for the rule (stream, severity, score, summary, expected vs actual, origin). The type is the one
 * frozen at the rule's first delivery; the status follows the event (a late "opened" never says
 * "resolved", and "resolved" is only queued while the incident is resolved).
 */
export async function buildAlertContext(
  a: AlertAnomaly,
  e: { event: TAlertEvent; severity: TSeverity; previousSeverity: TSeverity | null; type: TAnomalyType; rule: { id: number; name: string } },
  inc: NonNullable<Awaited<ReturnType<typeof getIncidentSummary>>>,
  baseUrl: string,
): Promise<AlertContext> {
  const floor = domainFloor({ metric: a.metric, kind: a.streamKind, unit: a.unit });
  const [values, origin] = await Promise.all([expectedVsActual(a.streamId, a.startMs, a.endMs).catch(() => ({ expected: null, actual: null })), probableOrigin(a)]);
  return {
    event: e.event,
    test: false,
    rule: e.rule,
    anomaly: {
      id: a.id,
      streamKey: a.streamKey,
      metric: a.metric,
      labels: a.labels,
      source: a.sourceName,
      group: a.group,
      // An escalation announces the severity it was queued for (the anomaly may have moved on).
      severity: e.event === "escalated" ? e.severity : a.severity,
      previousSeverity: e.previousSeverity,
      peakScore: a.peakScore,
      type: e.type,
      status: eventStatus(e.event, inc.status),
      startMs: a.startMs,
      endMs: a.endMs,
      summary: readableSummary(a.summary, { streamId: a.streamId, streamKey: a.streamKey, floor }),
      expected: clipToDomain(values.expected, floor),
      actual: values.actual,
    },
    incident: {
      id: inc.id,
      url: incidentLink(baseUrl, inc.id),
      status: eventStatus(e.event, inc.status),
      type: inc.type,
      anomalyCount: inc.anomalyCount,
      streamCount: inc.streamCount,
      streams: inc.streams,
      startMs: inc.startMs,
      endMs: e.event === "resolved" ? inc.endMs : null,
    },
    origin,
    link: anomalyLink(baseUrl, a.id),
  };
}

function eventStatus(event: TAlertEvent, current: TAnomalyStatus): TAnomalyStatus {
  if (event === "resolved") return "resolved";
  return current === "acknowledged" ? "acknowledged" : "open";
}
