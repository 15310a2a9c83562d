import { anomalyLink, publicBaseUrl } from "@/lib/alerts/payloads";
import { AppError } from "@/lib/errors/app-error";
import { incidentReportMarkdown } from "@/lib/explain/incident-report";
import { env } from "../../env";
import { getAnomaly } from "../../repos/anomalies-repo";
import { listFeedback } from "../../repos/feedback-repo";
import { getStream } from "../../repos/streams-repo";
import { explainAnomaly } from "./explain-service";

/** A Markdown post-mortem draft of one anomaly, with a file name for the download. */
export async function incidentReport(anomalyId: string, nowMs = Date.now(), baseUrl = publicBaseUrl(env())): Promise<{ fileName: string; markdown: string }> {
  const a = await getAnomaly(anomalyId);
  if (!a) throw new AppError("NOT_FOUND", `Anomaly ${anomalyId} does not exist.`);
  const [ex, feedback, stream] = await Promise.all([explainAnomaly(a.id), listFeedback(a.id), getStream(a.streamId)]);
  const summary = typeof a.explanation.summary === "string" ? a.explanation.summary.replace(new RegExp(`\\bon ${a.streamId}:`), `on ${a.streamKey}:`) : null;
  const originKey = ex.originStreamId === null ? null : (ex.causes.find((c) => c.streamId === ex.originStreamId)?.key ?? ex.timeline.find((e) => e.streamId === ex.originStreamId)?.key ?? null);
  const markdown = incidentReportMarkdown({
    generatedAtMs: nowMs,
    link: anomalyLink(baseUrl, a.id),
    anomaly: { id: a.id, streamKey: a.streamKey, source: stream?.sourceName ?? null, type: a.type, severity: a.severity, status: a.status, label: a.label, peakScore: a.peakScore, startMs: a.startMs, endMs: a.endMs, summary },
    originKey,
    causes: ex.causes,
    timeline: ex.timeline.map((e) => ({ key: e.key, offsetSec: e.offsetSec, onsetMs: e.onsetMs, peakScore: e.peakScore, severity: e.severity, correlation: e.correlation, isReference: e.streamId === ex.referenceStreamId })),
    feedback,
  });
  const day = new Date(a.startMs).toISOString().slice(0, 10);
  const slug = a.streamKey.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60) || "stream";
  return { fileName: `postmortem-${day}-${slug}-${a.id.slice(0, 8)}.md`, markdown };
}
