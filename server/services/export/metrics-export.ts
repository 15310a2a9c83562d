import { Counter, Gauge, Registry } from "prom-client";
import { anomalyTotals, streamScoresForExport } from "../../repos/export-repo";
import { readWorkerStatus } from "../../repos/worker-status-repo";
import { staleMarkerCounts } from "../ingest/ingest-service";

const MAX_EXPORTED_STREAMS = 20_000;
const SEVERITY_LEVEL: Record<string, number> = { low: 1, medium: 2, high: 3 };

/**
 * Omen's results as Prometheus metrics, so existing Alertmanager rules and Grafana boards can
 * use them: per-stream score, health and open severity, anomaly counts, worker liveness/lag.
 * Built from the database on each scrape (fresh registry: no stale series after deletions).
 */
export async function renderMetrics(nowMs = Date.now()): Promise<{ contentType: string; body: string }> {
  const registry = new Registry();
  const labelNames = ["stream", "metric", "source"] as const;
  const score = new Gauge({ name: "omen_anomaly_score", help: "Latest anomaly score of the stream (0-100).", labelNames, registers: [registry] });
  const health = new Gauge({ name: "omen_stream_health", help: "Data availability health of the stream (0-1).", labelNames, registers: [registry] });
  const severity = new Gauge({
    name: "omen_stream_open_severity",
    help: "Highest severity of the stream's open anomalies: 0 none, 1 low, 2 medium, 3 high.",
    labelNames,
    registers: [registry],
  });
  const anomalies = new Gauge({
    name: "omen_anomalies",
    help: "Anomalies recorded, by severity, type and status.",
    labelNames: ["severity", "type", "status"] as const,
    registers: [registry],
  });
  const workerUp = new Gauge({ name: "omen_worker_up", help: "1 if the worker sent a heartbeat in the last minute.", labelNames: ["worker"] as const, registers: [registry] });
  const workerLag = new Gauge({ name: "omen_worker_lag_samples", help: "Committed samples the worker has not scored yet.", labelNames: ["worker"] as const, registers: [registry] });

  const staleMarkers = new Counter({
    name: "omen_ingest_stale_markers_total",
    help: "Prometheus staleness markers received by this process (not stored as values), by outcome: ended_stream, unknown_series, out_of_bounds.",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const stale = staleMarkerCounts();
  staleMarkers.inc({ outcome: "ended_stream" }, stale.endedStream);
  staleMarkers.inc({ outcome: "unknown_series" }, stale.unknownSeries);
  staleMarkers.inc({ outcome: "out_of_bounds" }, stale.outOfBounds);

  const [streams, totals, workers] = await Promise.all([streamScoresForExport(MAX_EXPORTED_STREAMS), anomalyTotals(), readWorkerStatus()]);
  for (const s of streams) {
    const labels = { stream: s.key, metric: s.metric, source: s.source };
    if (s.score !== null) score.set(labels, s.score);
    if (s.health !== null) health.set(labels, s.health);
    severity.set(labels, s.severity ? (SEVERITY_LEVEL[s.severity] ?? 0) : 0);
  }
  for (const t of totals) anomalies.set({ severity: t.severity, type: t.type, status: t.status }, t.n);
  for (const w of workers) {
    workerUp.set({ worker: w.name }, nowMs - w.heartbeatAtMs < 60_000 ? 1 : 0);
    const lag = Number((w.info as { lag?: number }).lag ?? 0);
    workerLag.set({ worker: w.name }, Number.isFinite(lag) ? lag : 0);
  }
  return { contentType: registry.contentType, body: await registry.metrics() };
}
