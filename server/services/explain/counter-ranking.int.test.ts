import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contribution, historyReference, historySpan, orderByEvidence, rankEvidence, windowEvidence } from "@/lib/explain/cause-ranking";
import type { StreamKind } from "@/lib/detectors/types";
import type { IncomingSeries } from "../ingest/ingest-service";
import { scoreTableWithInsights, type TableInsights } from "@/lib/insights/table-insights";
import { listAnomalies } from "../../repos/anomalies-repo";
import { heartbeat } from "../../repos/worker-status-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { startHandoffServer } from "../../worker/handoff";
import { DetectPipeline } from "../../worker/pipeline/detect-pipeline";
import { resumeRollup } from "../../worker/pipeline/resume-rollup";
import { ConfigReloader } from "../config/config-reload";
import { detectNow } from "../detect/detect-service";
import { probeWorker } from "../detect/worker-probe";
import { createEngine, withSettings } from "../detection/engine-adapter";
import { importCsv } from "../ingest/csv-import";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { explainAnomaly } from "./explain-service";

/**
 * A counter ranks by its rate on all three paths: the CLI (`lib/insights/table-insights.ts`),
 * `POST /api/v1/detect` (the worker's probe takes the rate against the model's last reading)
 * and the anomaly page (the rate from the minute rollup, its reference from the five-minute
 * tier). A synthetic group of three gauges and a counter, one sample every 5 minutes, with a
 * counter reset on the way and an incident at the end in which the counter's rate surges and
 * one gauge rises with it. The counter reaches the worker declared (remote_write with its kind)
 * or in an uploaded CSV, which declares no kinds (the import decides it from the column; its
 * name has no counter suffix, so its values must): both rank it by its rate as the CLI does.
 */
const STEP_MS = 5 * 60_000;
const T0 = Date.UTC(2021, 0, 4);
const ROWS = 1600;
const INCIDENT = 1560;
const RESET = 800;
// the counter first: where its evidence ties a gauge's, table order puts it first, so a path
// that ranked it by its score alone would name the gauge first
const STREAMS: { name: string; kind: StreamKind }[] = [
  { name: "requests_served", kind: "counter" },
  { name: "cpu_pct", kind: "gauge" },
  { name: "mem_pct", kind: "gauge" },
  { name: "disk_pct", kind: "gauge" },
];
const C = 0;

/** Deterministic noise in [−1, 1) (no wall clock, no Math.random). */
function noise(seed: number): number {
  const x = Math.sin(seed * 12.9898 + 78.233) * 43758.5453;
  return 2 * (x - Math.floor(x)) - 1;
}

function buildTable(): { t: number[]; values: number[][] } {
  const t = Array.from({ length: ROWS }, (_, r) => T0 + r * STEP_MS);
  const day = (r: number) => Math.sin((2 * Math.PI * r) / 288);
  const values = STREAMS.map((s, k) => {
    if (s.kind === "gauge") return t.map((_, r) => 50 + 5 * day(r) + noise(r * 7 + k) + (k === 1 && r >= INCIDENT ? 12 : 0));
    let total = 1e6;
    return t.map((_, r) => {
      if (r === RESET) total = 0;
      total += (300 + 30 * day(r) + 10 * noise(r * 7 + k)) * (r >= INCIDENT ? 5 : 1);
      return Math.round(total);
    });
  });
  return { t, values };
}

describe("cause ranking of a counter: the page and the API agree with the CLI", () => {
  const { t, values } = buildTable();
  const now = T0 + ROWS * STEP_MS + 3_600_000;
  let cli: TableInsights;
  let onset: number;
  let pipeline: DetectPipeline | null = null;
  let handoff: Awaited<ReturnType<typeof startHandoffServer>>;

  beforeAll(async () => {
    cli = scoreTableWithInsights(
      { timestampsMs: Float64Array.from(t), columns: STREAMS.map((s, k) => ({ name: s.name, kind: s.kind, values: Float64Array.from(values[k]!) })) },
      undefined,
      { keepContributions: true },
    );
    onset = cli.isAnomaly.findIndex((f, r) => f === 1 && cli.severity[r] !== "" && r >= INCIDENT);
    expect(onset).toBeGreaterThanOrEqual(INCIDENT);
    // the counter ranks by its rate, NaN across its reset
    const n = STREAMS.length;
    expect(cli.values![RESET * n + C]).toBeNaN();
    expect(cli.values![(RESET + 1) * n + C]).toBeGreaterThan(0.5);
    handoff = await startHandoffServer(
      () => undefined,
      (r) => pipeline?.engine.probe?.(r.tsMs, r.ids, Float64Array.from(r.values, (v) => v ?? Number.NaN)) ?? [],
    );
  }, 60_000);
  afterAll(async () => handoff?.close());

  const paths = ["declared", "csv"] as const;
  describe.each(availableBackends().flatMap((b) => paths.map((p) => [b, p] as const)))("on %s, the counter %s", (backend, path) => {
    let tdb: TestDatabase;
    beforeAll(async () => {
      tdb = await createTestDatabase(backend);
      invalidateSourceCache();
      pipeline = null;
    });
    afterAll(async () => tdb?.drop());

    async function ingestAndScore(a: number, b: number): Promise<void> {
      if (path === "declared") {
        const series: IncomingSeries[] = STREAMS.map((s, k) => ({ metric: s.name, labels: {}, kind: s.kind, tsMs: t.slice(a, b), values: values[k]!.slice(a, b) }));
        await ingestSeries("rates", "remote_write", series, now);
      } else {
        const lines = [["timestamp", ...STREAMS.map((s) => s.name)].join(",")];
        for (let r = a; r < b; r++) lines.push([t[r]!, ...values.map((v) => v[r]!)].join(","));
        const res = await importCsv("rates", new TextEncoder().encode(lines.join("\n")), now);
        // the first file creates the streams, the counter from its values; the next extends them
        expect(res.streams.map((x) => x.kind)).toEqual(STREAMS.map((s) => s.kind));
        expect(res.streams[C]!.kindFrom).toBe(a === 0 ? "values" : "stored");
      }
      if (!pipeline) {
        const engine = withSettings(createEngine());
        await new ConfigReloader(engine, null, () => undefined).run();
        pipeline = new DetectPipeline(engine, 0, undefined, 100_000, await resumeRollup(0));
      }
      while ((await pipeline.tick(now)) > 0) {
        /* drain */
      }
    }

    it("the API ranks the incident's first alarm row as the CLI does, the counter by its rate", async () => {
      await ingestAndScore(0, onset);
      await heartbeat({ name: "rates-parity", pid: process.pid, startedAtMs: Date.now(), cursor: 0, info: { host: os.hostname(), handoff: handoff.endpoint } });
      const res = await detectNow({ timestamp: t[onset]!, streams: STREAMS.map((s, k) => ({ key: s.name, value: values[k]![onset]! })) }, now);
      const n = STREAMS.length;
      const row = cli.evidence!.subarray(onset * n, (onset + 1) * n);
      const seen = cli.values!.subarray(onset * n, (onset + 1) * n);
      res.results.forEach((x, k) => {
        expect(x.key).toBe(STREAMS[k]!.name);
        expect(contribution(x.score!, seen[k]!, x.expected!, (x.upper! - x.expected!) / 3)).toBeCloseTo(row[k]!, 3);
      });
      // the counter's rate surged: it carries evidence from its forecast, not its score alone
      expect(row[C]!).toBeGreaterThan(1);
      // the worker's probe takes the counter's rate against its model's last reading, as the CLI
      const [probed] = await probeWorker({ tsMs: t[onset]!, ids: [res.results[C]!.id!], values: [values[C]![onset]!] });
      expect(probed!.rate).toBeCloseTo(seen[C]!, 9);
      const anomalous = res.results.filter((x) => x.isAnomaly);
      expect(anomalous.length).toBeGreaterThan(0);
      // the causes named are the CLI's, those with at least half the top's evidence
      const order = orderByEvidence(row);
      const named = order.filter((k) => row[k]! >= 0.5 * row[order[0]!]!).map((k) => cli.streams[k]!);
      expect(named[0]).toBe(STREAMS[C]!.name);
      expect(anomalous[0]!.causes).toEqual(named.slice(0, 5));
    }, 60_000);

    it("the anomaly page ranks the incident as the CLI does, the counter's range from its rates", async () => {
      await ingestAndScore(onset, ROWS);
      const onsetMs = t[onset]!;
      const { rows } = await listAnomalies({ limit: 200 });
      const first = rows
        .filter((a) => a.startMs >= onsetMs - 3_600_000 && a.startMs <= onsetMs && (a.endMs ?? Infinity) >= onsetMs)
        .sort((a, b) => a.startMs - b.startMs || a.streamId - b.streamId)[0];
      expect(first).toBeDefined();
      const ex = await explainAnomaly(first!.id);
      let end = -1;
      for (let k = onset; k < cli.isAnomaly.length && t[k]! <= ex.window.toMs; k++) if (cli.isAnomaly[k]) end = k;
      expect(t[end]).toBe(ex.window.toMs);
      expect(ex.causes.map((c) => c.key)).toEqual(cli.causes[end]!.slice(0, ex.causes.length));
      const n = STREAMS.length;
      const span = historySpan(first!.startMs);
      const series = cli.streams.map((_, k) => {
        const tt = t.slice(0, end + 1);
        const value = Array.from({ length: end + 1 }, (_, j) => cli.values![j * n + k]!);
        return { t: tt, c: Array.from({ length: end + 1 }, (_, j) => cli.evidence![j * n + k]!), value, history: historyReference(tt, value, span) };
      });
      // the counter's reference is its rates (its raw total would lie outside any past range)
      expect(series[C]!.history.length).toBeGreaterThan(100);
      const shares = new Map(rankEvidence(cli.streams, windowEvidence(series, first!.startMs, ex.window.toMs)).map((c) => [c.stream, c.share]));
      expect(ex.causes.some((c) => c.key === STREAMS[C]!.name && c.share > 0)).toBe(true);
      for (const c of ex.causes.filter((x) => x.share > 0)) expect(Math.abs(c.share - shares.get(c.key)!)).toBeLessThan(0.001);
    }, 60_000);
  });
});
