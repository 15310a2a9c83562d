import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAnomalies, setAnomalyLabel } from "../../repos/anomalies-repo";
import { addFeedback, listFeedback, markFeedbackApplied, pendingFeedback } from "../../repos/feedback-repo";
import { listStreams } from "../../repos/streams-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { DetectPipeline } from "../../worker/pipeline/detect-pipeline";
import { createEngine, restoreEngine, withSettings } from "../detection/engine-adapter";
import type { EnginePort } from "@/lib/detectors/engine-port";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";

/**
 * Feedback that learns (docs/feedback.md): after a false-positive label on an anomaly, the worker
 * teaches the stream's detectors, and the same data replayed afterwards scores lower than it
 * does on an identical engine that never got the label.
 */
describe.each(availableBackends())("false-positive feedback on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  const step = 10_000;
  const n = 1200;
  const t0 = Date.UTC(2026, 10, 20, 0, 0, 0);
  // a recurring pattern: a short burst to ~+45 % (e.g. a nightly batch job)
  const burst = (k: number) => [130, 145, 140, 128][k]!;
  const spikeAt = 1100;

  function replay(engine: EnginePort, id: number, startMs: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < 40; i++) {
      const v = i >= 30 && i < 34 ? burst(i - 30) : 100 + 4 * noise(5000 + i);
      const t = startMs + i * step;
      // in the stream's own clock domain (imported history has one apart from the live clock)
      const r = engine.step(t, [id], new Float64Array([v]), new Float64Array([t]), engine.domainOf(id));
      if (i >= 30 && i < 34) out.push(r.scores.score[0]!);
    }
    return out;
  }

  it("a false-positive label lowers the scores of the same pattern replayed", async () => {
    const tsMs: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < n; i++) {
      tsMs.push(t0 + i * step);
      values.push(i >= spikeAt && i < spikeAt + 4 ? burst(i - spikeAt) : 100 + 4 * noise(i));
    }
    const now = t0 + n * step + 60_000;
    await ingestSeries("app", "remote_write", [{ metric: "batch_queue_depth", labels: { job: "nightly" }, kind: "gauge", tsMs, values }], now);
    const [stream] = await listStreams({ search: "batch_queue_depth" });
    const id = stream!.id;

    // The worker's path: pipeline over the committed samples opens the anomaly.
    const pipeline = new DetectPipeline(withSettings(createEngine()), 0, step, 100_000);
    await pipeline.tick(now);
    const { rows } = await listAnomalies({ streamId: id });
    const anomaly = rows.find((r) => r.startMs >= t0 + (spikeAt - 2) * step);
    expect(anomaly, "the burst opens an anomaly").toBeDefined();

    // An identical engine that will not receive the label (the control).
    const control = restoreEngine(pipeline.engine.serialize());

    // The SRE labels it a false positive (what anomalies.label does) ...
    await setAnomalyLabel([anomaly!.id], "false_positive");
    await addFeedback(anomaly!.id, "false_positive", "nightly batch, expected", "sre");
    // ... and the worker's feedback job teaches the detectors (Worker.applyFeedback).
    const pending = await pendingFeedback();
    expect(pending.map((p) => p.anomalyId)).toEqual([anomaly!.id]);
    for (const f of pending) for (const sid of f.streamIds) pipeline.engine.applyFeedback(sid, f.label, f.startMs, f.endMs);
    await markFeedbackApplied(pending.map((p) => p.id));
    expect((await listFeedback(anomaly!.id))[0]).toMatchObject({ label: "false_positive", applied: true });

    const replayStart = now + 10 * step;
    const labelled = replay(pipeline.engine, id, replayStart);
    const unlabelled = replay(control, id, replayStart);
    const peak = (xs: number[]) => Math.max(...xs);
    // Same data, same state apart from the label: lower scores, by a clear margin.
    expect(peak(labelled)).toBeLessThan(peak(unlabelled));
    expect(peak(unlabelled) - peak(labelled)).toBeGreaterThan(10);
    for (let k = 0; k < labelled.length; k++) expect(labelled[k]!).toBeLessThanOrEqual(unlabelled[k]! + 1e-9);
    // The label persists in the worker's snapshot.
    const restored = restoreEngine(pipeline.engine.serialize());
    expect(peak(replay(restored, id, replayStart + 100 * step))).toBeLessThan(peak(unlabelled));
  });
});
