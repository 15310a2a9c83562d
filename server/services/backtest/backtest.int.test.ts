import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";
import { listAnomalies } from "../../repos/anomalies-repo";
import { listStreams } from "../../repos/streams-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { applyPendingFeedback } from "../../worker/jobs/feedback";
import { DetectPipeline } from "../../worker/pipeline/detect-pipeline";
import { setAnomalyLabel } from "../../repos/anomalies-repo";
import { addFeedback } from "../../repos/feedback-repo";
import { ConfigReloader } from "../config/config-reload";
import { saveScopeSettings } from "../config/config-service";
import { createEngine, withSettings } from "../detection/engine-adapter";
import { replayStreams } from "../detection/replay";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { readRawSamples, streamSpans } from "../../repos/storage/sample-reads";
import { effectiveSettingsByStream } from "../config/config-service";
import { truthRanges } from "../../repos/stream-labels-repo";
import { importCsv } from "../ingest/csv-import";
import { runBacktest } from "./backtest-service";

/**
 * Backtest = production: the worker scores a source from its first sample (with configured
 * settings, and a false-positive label taught half-way), then the backtest of that source under
 * its current settings predicts exactly the anomalies the worker opened.
 */
describe.each(availableBackends())("backtest on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  const minute = 60_000;
  // one sample a minute, 7 s past the minute (as a scraper's clock), over ~4.5 days
  const t0 = Date.UTC(2026, 9, 1, 0, 0, 7);
  const n = 6500;
  // a recurring burst (a nightly job) and one far larger excursion; the first burst gets a false-positive label
  const bursts = [2000, 3440, 4880];
  const stepAt = 6000;
  const value = (i: number) => {
    const b = bursts.find((s) => i >= s && i < s + 5);
    if (b !== undefined) return [160, 185, 180, 170, 150][i - b]!;
    return (i >= stepAt && i < stepAt + 10 ? 400 : 100) + 4 * noise(i) + 10 * Math.sin((2 * Math.PI * i) / 1440);
  };
  const series = (from: number, to: number) => {
    const tsMs: number[] = [];
    const a: number[] = [];
    const b: number[] = [];
    for (let i = from; i < to; i++) {
      tsMs.push(t0 + i * minute);
      a.push(value(i));
      b.push(50 + 3 * noise(i + 99_999));
    }
    return [
      { metric: "jobs_queue_depth", labels: { host: "db1" }, kind: "gauge" as const, tsMs, values: a },
      { metric: "jobs_cpu", labels: { host: "db1" }, kind: "gauge" as const, tsMs, values: b },
    ];
  };

  async function drain(pipeline: DetectPipeline, now: number) {
    while ((await pipeline.tick(now)) > 0) {
      /* next batch */
    }
    await pipeline.tick(now); // the held-back newest step
    await pipeline.drain();
  }

  it("predicts, under the current settings, exactly the anomalies the worker opened", async () => {
    const now = t0 + n * minute + 3_600_000;
    await saveScopeSettings({ target: { scope: "global", ref: "" }, settings: { minDurationSec: 0, sensitivity: 1.2 }, author: "test" });
    const engine = withSettings(createEngine());
    await new ConfigReloader(engine, null, () => undefined).run();
    const pipeline = new DetectPipeline(engine, 0, undefined, 5_000);
    const half = 2600; // after the first burst
    await ingestSeries("jobs", "remote_write", series(0, half), now);
    await drain(pipeline, now);
    const [queue] = await listStreams({ search: "jobs_queue_depth" });
    const first = (await listAnomalies({ streamId: queue!.id })).rows.find((a) => a.startMs >= t0 + (bursts[0]! - 2) * minute);
    expect(first, "the first burst is raised").toBeDefined();
    // what labelling in the UI stores (anomaly-service.labelAnomalies, a server-only module)
    await setAnomalyLabel([first!.id], "false_positive");
    await addFeedback(first!.id, "false_positive", "nightly job", "test");
    expect(await applyPendingFeedback(engine)).toBe(1);
    await ingestSeries("jobs", "remote_write", series(half, n), now);
    await drain(pipeline, now);

    const stored = (await listAnomalies({ sort: "start", dir: "asc", limit: 500 })).rows.sort((a, b) => a.startMs - b.startMs || a.streamId - b.streamId);
    expect(stored.length).toBeGreaterThanOrEqual(2);
    const sourceId = String((await listStreams({ search: "jobs_" }))[0]!.sourceId);
    const bt = await runBacktest({ target: { scope: "source", ref: sourceId }, proposed: {} });
    // all stored history (under 30 days), on the samples' own times
    expect(bt.fromMs).toBe(t0);
    expect(bt.toMs).toBe(t0 + (n - 1) * minute + 1);
    expect(bt.streams.map((s) => s.points)).toEqual([n, n]);
    expect(bt.labelsApplied).toBe(1);
    const key = (a: { streamId: number; startMs: number; endMs: number | null; severity: string }) => `${a.streamId}@${a.startMs}-${a.endMs}:${a.severity}`;
    expect(bt.current.anomalies.map(key)).toEqual(stored.map(key));
    expect(bt.live.count).toBe(stored.length);
    for (const [i, a] of bt.current.anomalies.entries()) expect(a.peakScore).toBeCloseTo(bt.live.anomalies[i]!.peakScore, 6);
    // the proposal equal to the current settings predicts the same
    expect(bt.proposed.anomalies.map(key)).toEqual(bt.current.anomalies.map(key));

    // the label matters: the same replay without it raises what the worker did not
    const ids = bt.streams.map((s) => s.id);
    const unlabelled = await replayStreams(await streamSpans(ids), await readRawSamples(ids, bt.fromMs, bt.toMs, 1e6), await effectiveSettingsByStream());
    expect(unlabelled.anomalies.map(key)).not.toEqual(bt.current.anomalies.map(key));
  });

  it("events start on the samples' own minutes, never on a resampled grid", async () => {
    const bt = await runBacktest({ target: { scope: "global", ref: "" }, proposed: { sensitivity: 2 } });
    expect(bt.proposed.count).toBeGreaterThan(0);
    // samples at hh:mm:07 are scored in the worker's 10-s step hh:mm:00: starts are whole minutes
    for (const a of [...bt.current.anomalies, ...bt.proposed.anomalies]) expect(a.startMs % minute).toBe(0);
  });

  it("refuses a backwards range and a range over 31 days in words", async () => {
    const target = { scope: "global" as const, ref: "" };
    await expect(runBacktest({ target, proposed: {}, fromMs: t0 + 1000, toMs: t0 })).rejects.toThrow(/ends before it starts/);
    await expect(runBacktest({ target, proposed: {}, fromMs: t0, toMs: t0 + 40 * 86_400_000 })).rejects.toThrow(/longer than 31 days/);
    const part = await runBacktest({ target, proposed: {}, fromMs: t0 + 3000 * minute, toMs: t0 + 4000 * minute });
    expect(part.streams.map((s) => s.points)).toEqual([1000, 1000]);
  });

  it("stores a CSV's ground-truth column as labelled ranges on the file's streams and scores precision and recall on them", async () => {
    const start = Date.UTC(2014, 6, 1);
    const rows = ["timestamp,value,is_anomaly"];
    for (let i = 0; i < 2000; i++) {
      const marked = (i >= 1500 && i < 1505) || (i >= 1800 && i < 1802);
      rows.push(`${new Date(start + i * minute).toISOString()},${(marked ? 400 : 100 + 3 * noise(i)).toFixed(2)},${marked ? 1 : 0}`);
    }
    const body = new TextEncoder().encode(`${rows.join("\n")}\n`);
    const nowMs = Date.UTC(2026, 10, 20);
    const first = await importCsv("truth", body, nowMs, { metric: "gt_orders" });
    expect(first.groundTruth).toEqual([{ column: "is_anomaly", marked: 7, ranges: 2 }]);
    expect(first.labelledRanges).toBe(2);
    expect((await importCsv("truth", body, nowMs, { metric: "gt_orders" })).labelledRanges).toBe(2); // a re-import replaces its own
    const [s] = await listStreams({ search: "gt_orders" });
    const truth = await truthRanges([s!.id], start, start + 2000 * minute);
    expect(truth.map((t) => [(t.startMs - start) / minute, (t.endMs - start) / minute, t.origin])).toEqual([
      [1500, 1504, "csv:is_anomaly"],
      [1800, 1801, "csv:is_anomaly"],
    ]);
    const bt = await runBacktest({ target: { scope: "stream", ref: String(s!.id) }, proposed: { minDurationSec: 0 } });
    expect(bt.truthRanges.length).toBe(2);
    const score = bt.proposed.score!;
    expect(score.ranges).toBe(2);
    expect(score.found).toBeGreaterThanOrEqual(1); // the 5-minute jump to 4x is found
    expect(score.recall).toBe(score.found / 2);
    expect(score.hits).toBe(bt.proposed.anomalies.filter((a) => a.truth).length);
    expect(bt.proposed.score!.precision).toBe(bt.proposed.anomalies.filter((a) => a.truth).length / bt.proposed.count);
  });
});
