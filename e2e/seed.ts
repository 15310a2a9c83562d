/**
 * E2E seed, run by playwright.config.ts before `npm start` on the same (fresh) data directory:
 * ingests telemetry through the real ingest service, so the real worker scores it when the
 * app starts (the checkout stream has a clear burst → the worker opens a real anomaly), and
 * seeds a table's worth of anomaly rows through the repository for the triage-queue flows.
 * Also writes an omen.yaml (OMEN_CONFIG_FILE) with one file-managed rule.
 */
import fs from "node:fs";
import path from "node:path";
import { closeDatabase, configureDatabase } from "../server/db";
import { resolveDatabase } from "../server/embedded/embedded-db";
import { migrate } from "../server/migrate";
import { setAnomalyLabel, setAnomalyStatus, upsertAnomalies, type AnomalyUpsert } from "../server/repos/anomalies-repo";
import { addFeedback } from "../server/repos/feedback-repo";
import { listStreams } from "../server/repos/streams-repo";
import { ingestSeries } from "../server/services/ingest/ingest-service";
import { E2E } from "./seed-data";
import { hashNoise as noise } from "../lib/scenarios/hash-noise";

async function main(): Promise<void> {
  const dataDir = path.resolve(process.env.OMEN_DATA_DIR ?? ".omen");
  const { url, embedded } = await resolveDatabase(process.env.DATABASE_URL || undefined, dataDir);
  await migrate(url);
  configureDatabase(url);
  const now = Date.now();
  const step = 10_000;
  const n = E2E.points;
  const end = Math.floor((now - 30_000) / step) * step;
  const ts = Array.from({ length: n }, (_, i) => end - (n - 1 - i) * step);
  const burstAt = n - E2E.burstPointsAgo;
  await ingestSeries(
    E2E.source,
    "remote_write",
    [
      {
        metric: E2E.checkoutMetric,
        labels: { service: "checkout" },
        kind: "gauge",
        group: E2E.checkoutGroup,
        unit: "ms",
        tsMs: ts,
        values: ts.map((_, i) => (i >= burstAt && i < burstAt + 6 ? 420 + 10 * noise(i) : 100 + 5 * noise(i))),
      },
      {
        metric: E2E.bulkMetric,
        labels: { disk: "sda" },
        kind: "gauge" as const,
        group: "disks",
        tsMs: ts,
        values: ts.map((_, i) => 50 + 3 * noise(i + 7000)),
      },
      ...E2E.similarFans.map((fan, k) => ({
        metric: E2E.similarMetric,
        labels: { fan },
        kind: "gauge" as const,
        group: "fans",
        tsMs: ts,
        values: ts.map((_, i) => 3000 + 40 * noise(i + 9000 + 100 * k)),
      })),
      ...E2E.queues.map((q, k) => ({
        metric: E2E.queueMetric,
        labels: { queue: q },
        kind: "gauge" as const,
        group: E2E.queueGroup,
        tsMs: ts,
        values: ts.map((_, i) => 20 + 10 * k + 2 * noise(i + 100 * k)),
      })),
    ],
    now,
  );

  // Triage-queue rows (repository seeding, as allowed for table-heavy flows).
  const queues = await listStreams({ search: E2E.queueMetric, limit: 100 });
  const sev = ["high", "medium", "low"] as const;
  const types = ["point", "collective", "trend", "gap", "contextual"] as const;
  const rows: AnomalyUpsert[] = [];
  for (let i = 0; i < E2E.tableRows; i++) {
    const s = queues[i % queues.length]!;
    // The newest six are live work still going on (started within the hour); the rest, history.
    const start = i < 6 ? now - (i + 1) * 8 * 60_000 : now - (i + 1) * 47 * 60_000;
    rows.push({
      engineId: `e2e-table-${i}`,
      streamId: s.id,
      streamIds: i % 7 === 0 ? queues.slice(0, 3).map((q) => q.id) : [s.id],
      startMs: start,
      endMs: i < 6 ? null : start + ((i % 5) + 1) * 60_000,
      peakScore: 62 + ((i * 37) % 38),
      severity: sev[i % 3]!,
      type: types[i % types.length]!,
      explanation: {
        summary: `${types[i % types.length]} anomaly on ${s.key}: robust-z ${(4 + (i % 4)).toFixed(1)}σ; expected 30 [26, 34], actual ${50 + i}`,
        ...(i % 7 === 0
          ? {
              timeline: [
                { atMs: start, stream: queues[0]!.key, text: "queue depth starts rising" },
                { atMs: start + 60_000, stream: queues[1]!.key, text: "follows 1 minute later" },
                { atMs: start + 120_000, stream: queues[2]!.key, text: "drains after the consumer restarts" },
              ],
            }
          : {}),
      },
    });
  }
  // A recurring pattern found in history (hours before it was seen): one stream, many rows.
  const [disk] = await listStreams({ search: E2E.bulkMetric, limit: 1 });
  for (let i = 0; i < E2E.bulkRows; i++) {
    const start = now - 5 * 86_400_000 + i * 97 * 60_000;
    rows.push({
      engineId: `e2e-bulk-${i}`,
      streamId: disk!.id,
      streamIds: [disk!.id],
      startMs: start,
      endMs: start + 2 * 60_000,
      peakScore: 64 + (i % 10),
      severity: "low",
      type: "point",
      explanation: { summary: `point anomaly on ${disk!.id}: robust-z 4.2σ; expected 50 [-12, 112], actual 81` },
    });
  }
  // The same dip on both fans, a few times in history: each time one incident over both streams.
  const fans = await listStreams({ search: E2E.similarMetric, limit: 10 });
  for (let i = 0; i < E2E.similarIncidents; i++) {
    const start = now - 4 * 86_400_000 + i * 211 * 60_000;
    for (const fan of fans) {
      rows.push({
        engineId: `e2e-fan-${fan.id}-${i}`,
        streamId: fan.id,
        streamIds: [fan.id],
        startMs: start,
        endMs: start + 3 * 60_000,
        peakScore: 70,
        severity: "medium",
        type: "collective",
        explanation: { summary: "collective anomaly: fan speed dipped" },
      });
    }
  }
  await upsertAnomalies(rows);
  const all = await import("../server/repos/anomalies-repo").then((m) => m.listAnomalies({ search: E2E.queueMetric, limit: 500, sort: "start", dir: "asc" }));
  const ids = all.rows.map((r) => r.id);
  await setAnomalyStatus(ids.slice(0, 8), "resolved");
  await setAnomalyStatus(ids.slice(8, 14), "acknowledged");
  await setAnomalyLabel(ids.slice(0, 5), "false_positive");
  await setAnomalyLabel(ids.slice(5, 8), "true_anomaly");
  for (const id of ids.slice(0, 8)) await addFeedback(id, id === ids[5] ? "true_anomaly" : "false_positive", "seeded history", "seed");

  if (process.env.OMEN_CONFIG_FILE) {
    fs.writeFileSync(
      process.env.OMEN_CONFIG_FILE,
      [
        "# Omen settings as code (e2e)",
        "version: 1",
        "global:",
        "  modelUpdateInterval: 5m",
        "  retention: 30d",
        "rules:",
        `  - group: ${E2E.queueGroup}`,
        "    sensitivity: 0.8",
        "    minDuration: 1m",
        "    seasonality: daily",
        "    muteWindows:",
        '      - { kind: daily, start: "03:00", end: "03:30", note: queue compaction }',
        "sources:",
        "  - name: e2e-yaml-prometheus",
        "    prometheus:",
        "      url: http://127.0.0.1:9", // nothing listens: the table shows the pull error
        "      queries: [node_load1]",
        "",
      ].join("\n"),
    );
  }
  await closeDatabase();
  await embedded?.stop();
  console.log(`[e2e seed] ${n} points × ${1 + E2E.queues.length} streams, ${rows.length} anomaly rows`);
}

main().catch((e: unknown) => {
  console.error(`[e2e seed] failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
