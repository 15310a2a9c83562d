import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAnomalies } from "../../repos/anomalies-repo";
import { readScores } from "../../repos/storage/scores";
import { getStream, listStreams } from "../../repos/streams-repo";
import { ingestSeries, invalidateSourceCache } from "../../services/ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { fiveMinuteCounts, fiveMinuteDrift } from "../../testing/rollup-tiers";
import { readSeries, sequenceHead } from "../../repos/storage/samples";
import { setCommitSink } from "../../services/ingest/group-commit";
import { DetectPipeline } from "./detect-pipeline";
import { RollupBuffer } from "./rollup-buffer";
import { resumeRollup } from "./resume-rollup";
import { pool } from "../../db";

async function rollupCount(streamId: number): Promise<number> {
  const res = await pool().query<{ n: string }>("SELECT coalesce(sum(count), 0) AS n FROM sample_rollup_1m WHERE stream_id = $1", [streamId]);
  return Number(res.rows[0]!.n);
}
import { createEngine, restoreEngine } from "../../services/detection/engine-adapter";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";

describe.each(availableBackends())("worker pipeline on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  const step = 10_000;
  const t0 = Date.UTC(2026, 10, 20, 0, 0, 0);
  const n = 1500;
  const spikeAt = 1400;

  it("scores every committed sample and opens an anomaly for a clear spike", async () => {
    const tsMs: number[] = [];
    const values: number[] = [];
    const calm: number[] = [];
    for (let i = 0; i < n; i++) {
      tsMs.push(t0 + i * step);
      values.push(i >= spikeAt && i < spikeAt + 6 ? 400 : 100 + 5 * noise(i));
      calm.push(50 + 2 * noise(i + 7));
    }
    const now = t0 + n * step + 60_000;
    await ingestSeries("app", "remote_write", [
      { metric: "latency_ms", labels: { service: "api" }, kind: "gauge", tsMs, values },
      { metric: "cpu_percent", labels: { service: "api" }, kind: "gauge", tsMs, values: calm },
    ], now);

    const pipeline = new DetectPipeline(createEngine(), 0, step, 500);
    // batches of 500, each one's writes overlapping the next one's scoring, as the worker runs it
    while ((await pipeline.tick(now, { overlap: true })) > 0) {
      /* next batch */
    }
    await pipeline.tick(now, { overlap: true });
    await pipeline.drain();
    await pipeline.flushStreams();
    expect(pipeline.stats.samplesRead).toBe(2 * n);
    const [latency] = await listStreams({ search: "latency_ms" });
    const scores = await readScores(latency!.id, t0, now, 100_000);
    expect(scores.length).toBe(n);
    const spikeScore = Math.max(...scores.filter((s) => s.t >= t0 + spikeAt * step && s.t < t0 + (spikeAt + 6) * step).map((s) => s.score));
    const calmScores = scores.filter((s) => s.t > t0 + 600 * step && s.t < t0 + 1300 * step).map((s) => s.score);
    expect(spikeScore).toBeGreaterThan(80);
    expect(Math.max(...calmScores)).toBeLessThan(60);

    const { rows } = await listAnomalies({ streamId: latency!.id });
    expect(rows.length).toBeGreaterThanOrEqual(1);
    const a = rows.find((r) => r.startMs >= t0 + (spikeAt - 2) * step && r.startMs <= t0 + (spikeAt + 6) * step);
    expect(a).toBeDefined();
    expect(a!.peakScore).toBeGreaterThan(80);
    const row = (await getStream(latency!.id))!;
    expect(row.lastValue).toBeCloseTo(values[n - 1]!, 6);
    // The overview's sparkline arrays hold the newest 60 scored points, in time order.
    expect(row.spark.t).toEqual(tsMs.slice(-60));
    expect(row.spark.v[59]).toBeCloseTo(values[n - 1]!, 6);
    expect(row.spark.s.every((x) => x !== null && x >= 0 && x <= 100)).toBe(true);

    // A snapshot restores to an engine that continues identically.
    const restored = restoreEngine(pipeline.engine.serialize());
    expect(restored.lastStepMs()).toBe(pipeline.engine.lastStepMs());
    const probe = new Float64Array([100]);
    const a1 = pipeline.engine.step(t0 + (n + 1) * step, [latency!.id], probe, new Float64Array([t0 + (n + 1) * step]));
    const a2 = restored.step(t0 + (n + 1) * step, [latency!.id], probe, new Float64Array([t0 + (n + 1) * step]));
    const row0 = (r: typeof a1) => [r.scores.n, r.scores.streamIds[0], r.scores.score[0], r.scores.confidence[0], r.scores.expected[0], r.scores.lower[0], r.scores.upper[0]];
    expect(row0(a2)).toEqual(row0(a1));
    expect(a1.scores.n).toBe(1);
  });

  it("scores one row per stream and step: the newest sample of a held-back step wins, also across batches", async () => {
    const base = t0 + 10 * n * step; // after the first test's data
    const ts = [base, base + 3_000, base + step, base + step + 1_000, base + 2 * step, base + 2 * step + 4_000];
    const vs = [1, 2, 3, 4, 5, 6];
    const now = base + 2 * step + 5_000;
    const cursor = await sequenceHead(); // this test's samples only: the batch boundaries below matter
    await ingestSeries("dup", "remote_write", [{ metric: "dup_metric", labels: {}, kind: "gauge", tsMs: ts, values: vs }], now);
    const [stream] = await listStreams({ search: "dup_metric" });
    // batches of 3 samples: step 1's two samples arrive in different batches (step 1 is held
    // back for its late sample while the wall clock is near it)
    const pipeline = new DetectPipeline(createEngine(), cursor, step, 3);
    while ((await pipeline.tick(now)) > 0) {
      /* next batch */
    }
    await pipeline.tick(base + 10 * step); // later: the newest step is complete
    await pipeline.drain();
    const scores = await readScores(stream!.id, base, base + 10 * step, 100);
    expect(scores.map((s) => s.t)).toEqual([base + 3_000, base + step + 1_000, base + 2 * step + 4_000]);
  });

  it("a read that stops inside a commit of many blocks and steps leaves no sample late (fault test, PostgreSQL restart)", async () => {
    // One commit: 100 streams (4 blocks of 32 ids) × 30 steps. The worker reads it in pieces of
    // about 250 samples, as after a restart with a backlog; every piece must end at a step, or
    // hold its newest step back, so the next piece's samples of earlier steps are never late.
    const base = t0 + 20 * n * step;
    const steps = 30;
    const tsMs = Array.from({ length: steps }, (_, i) => base + i * step);
    const series = Array.from({ length: 100 }, (_, k) => ({ metric: "cut_metric", labels: { k: String(k).padStart(3, "0") }, kind: "gauge" as const, tsMs, values: tsMs.map((_, i) => 10 + k + noise(i + 100 * k)) }));
    const now = base + steps * step + 60_000;
    const cursor = await sequenceHead();
    const pipeline = new DetectPipeline(createEngine(), cursor, step, 250);
    // the streams are known (their first step scored) before the commit that is read in pieces
    const first = (k: number) => ({ ...series[k]!, tsMs: tsMs.slice(0, 1), values: series[k]!.values.slice(0, 1) });
    await ingestSeries("cut", "remote_write", series.map((_, k) => first(k)), now);
    while ((await pipeline.tick(now)) > 0) {
      /* the first step */
    }
    const rest = (k: number) => ({ ...series[k]!, tsMs: tsMs.slice(1), values: series[k]!.values.slice(1) });
    await ingestSeries("cut", "remote_write", series.map((_, k) => rest(k)), now);
    while ((await pipeline.tick(now)) > 0) {
      /* next piece */
    }
    await pipeline.tick(now);
    await pipeline.drain();
    expect(pipeline.stats.samplesRead).toBe(100 * steps);
    expect(pipeline.stats.lateSamples).toBe(0);
    const streams = await listStreams({ search: "cut_metric", limit: 200 });
    expect(streams.length).toBe(100);
    for (const s of [streams[0]!, streams[50]!, streams[99]!]) {
      const scores = await readScores(s.id, base, now, 1000);
      expect(scores.map((x) => x.t)).toEqual(tsMs);
    }
  });
  it("replays backfilled history through the detectors on a history clock, then follows live data", async () => {
    const liveStart = t0 + 20 * n * step; // after the earlier tests' data
    const pipeline = new DetectPipeline(createEngine(), await sequenceHead(), step, 2_000);
    const drainAll = async (now: number) => {
      while ((await pipeline.tick(now)) > 0) {
        /* next batch */
      }
      await pipeline.tick(now + 10 * step);
      await pipeline.drain();
    };
    // live data first, as it arrives (10 steps at a time): the live clock reaches liveStart + 200 steps
    for (let c = 0; c < 20; c++) {
      const liveTs = Array.from({ length: 10 }, (_, i) => liveStart + (10 * c + i) * step);
      const values = liveTs.map((_, i) => 10 + noise(10 * c + i));
      await ingestSeries("live", "remote_write", [{ metric: "live_metric", labels: {}, kind: "gauge", tsMs: liveTs, values }], liveStart + (10 * c + 10) * step);
      await drainAll(liveStart + (10 * c + 10) * step);
    }
    const liveClock = pipeline.engine.lastStepMs(0);
    expect(liveClock).toBeGreaterThanOrEqual(liveStart + 190 * step);

    // then a backfill of the 1,000 steps before the live data, with a spike in it
    const histTs = Array.from({ length: 1000 }, (_, i) => liveStart - (1000 - i) * step);
    const histV = histTs.map((_, i) => (i >= 900 && i < 904 ? 300 : 100 + 4 * noise(i + 99)));
    await ingestSeries("backfill", "prometheus_pull", [{ metric: "hist_metric", labels: {}, kind: "gauge", tsMs: histTs, values: histV }], liveStart + 200 * step);
    // and a new stream only a little behind the live clock: it joins the live clock
    await ingestSeries("live", "remote_write", [{ metric: "late_metric", labels: {}, kind: "gauge", tsMs: [liveClock - 3 * step, liveClock + step], values: [1, 2] }], liveStart + 200 * step);
    await drainAll(liveStart + 200 * step);

    const [hist] = await listStreams({ search: "hist_metric" });
    const [late] = await listStreams({ search: "late_metric" });
    expect(pipeline.engine.domainOf(hist!.id)).toBe(1);
    expect(pipeline.engine.domainOf(late!.id)).toBe(0);
    expect(pipeline.engine.lastStepMs(0)).toBeGreaterThanOrEqual(liveClock); // the live clock did not move back
    // every history sample is scored, and the detectors learnt from it: the spike stands out
    const scores = await readScores(hist!.id, histTs[0]!, liveStart, 10_000);
    expect(scores).toHaveLength(1000);
    const spike = Math.max(...scores.slice(900, 904).map((x) => x.score));
    const calm = Math.max(...scores.slice(500, 890).map((x) => x.score));
    expect(spike).toBeGreaterThan(80);
    expect(calm).toBeLessThan(60);
    expect(scores[999]!.confidence).toBeGreaterThan(0.5);
    const { rows } = await listAnomalies({ streamId: hist!.id });
    expect(rows.some((a) => a.startMs >= histTs[898]! && a.startMs <= histTs[904]!)).toBe(true);

    // the history clock follows live data from here on; once it has caught up with the live
    // clock, its stream joins that clock with what it learnt (the domain is free for later history)
    await ingestSeries("backfill", "prometheus_pull", [{ metric: "hist_metric", labels: {}, kind: "gauge", tsMs: [liveStart + 205 * step], values: [101] }], liveStart + 210 * step);
    await drainAll(liveStart + 210 * step);
    expect((await readScores(hist!.id, liveStart + 205 * step, liveStart + 206 * step, 10)).length).toBe(1);
    expect(pipeline.engine.domainOf(hist!.id)).toBe(0);
    expect(pipeline.engine.lastStepMs(1)).toBe(-Infinity);

    // a second backfill reuses the freed domain; sent with its first live samples, the newest is
    // held back on the history clock when the domain catches up, and is scored once on the live one
    const hist2V = histTs.map((_, i) => 50 + 2 * noise(i + 7));
    const at = liveStart + 206 * step;
    await ingestSeries("backfill", "prometheus_pull", [{ metric: "hist2_metric", labels: {}, kind: "gauge", tsMs: [...histTs, at, at + step], values: [...hist2V, 51, 49] }], at + step);
    await ingestSeries("live", "remote_write", [{ metric: "live_metric", labels: {}, kind: "gauge", tsMs: [at], values: [10] }], at + step);
    await drainAll(at + step);
    const [hist2] = await listStreams({ search: "hist2_metric" });
    expect(pipeline.engine.domainOf(hist2!.id)).toBe(0);
    expect(await readScores(hist2!.id, histTs[0]!, at + 2 * step, 10_000)).toHaveLength(1002);

    // on the live clock both go on from what they learnt: calm values stay calm, a spike beyond
    // any in the history stands out (a repeat of the history's spike of 300 is a seen excursion)
    const next = [208, 209, 210].map((k) => liveStart + k * step);
    await ingestSeries("backfill", "prometheus_pull", [{ metric: "hist_metric", labels: {}, kind: "gauge", tsMs: next, values: [100, 900, 101] }, { metric: "hist2_metric", labels: {}, kind: "gauge", tsMs: next, values: [50, 51, 49] }], next[2]! + step);
    await drainAll(next[2]! + 5 * step);
    const after = await readScores(hist!.id, next[0]!, next[2]! + step, 10);
    expect(after.map((x) => x.score > 80)).toEqual([false, true, false].slice(0, after.length));
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...(await readScores(hist2!.id, next[0]!, next[2]! + step, 10)).map((x) => x.score))).toBeLessThan(60);

    // a snapshot keeps them on the live clock
    const restored = restoreEngine(pipeline.engine.serialize());
    expect(restored.domainOf(hist!.id)).toBe(0);
    expect(restored.domainOf(hist2!.id)).toBe(0);
    expect(restored.lastStepMs(0)).toBe(pipeline.engine.lastStepMs(0));
  });

  it("takes handed-off batches from memory and keeps the 1-minute rollup exact", async () => {
    const base = Date.UTC(2026, 10, 21, 0, 0, 0);
    const n = 240; // 40 minutes at 10 s
    const series = (from: number, to: number) => [
      { metric: "rollup_a", labels: {}, kind: "gauge" as const, tsMs: [] as number[], values: [] as number[] },
      { metric: "rollup_b", labels: {}, kind: "gauge" as const, tsMs: [] as number[], values: [] as number[] },
    ].map((sr, k) => {
      for (let i = from; i < to; i++) {
        sr.tsMs.push(base + i * step);
        sr.values.push(10 * k + (i % 7));
      }
      return sr;
    });
    const pipeline = new DetectPipeline(createEngine(), await sequenceHead(), step, 100_000, new RollupBuffer(await sequenceHead()));
    setCommitSink((b) => pipeline.handoff.offer(b));
    try {
      const now = base + n * step + 60_000;
      // the first batch of a new stream takes the staging path; later ones are handed off (PostgreSQL)
      for (const [from, to] of [[0, 60], [60, 120], [120, 180], [180, 240]] as const) {
        await ingestSeries("rollup", "remote_write", series(from, to), now);
        await pipeline.tick(now, { overlap: true });
      }
      await pipeline.tick(now);
      await pipeline.writeRollup(true);
      if (backend === "postgres") expect(pipeline.handoff.hits).toBeGreaterThan(0);
      const streams = await listStreams({ search: "rollup_" });
      expect(streams).toHaveLength(2);
      for (const st of streams) {
        const k = st.metric === "rollup_a" ? 0 : 1;
        const scores = await readScores(st.id, base, now, 100_000);
        expect(scores.length).toBe(n);
        // 40 one-minute buckets read from the rollup table (bucket ≥ 60 s) against the input
        const roll = await readSeries(st.id, base, base + 40 * 60_000, 40);
        expect(roll).toHaveLength(40);
        roll.forEach((r, m) => {
          const vals = Array.from({ length: 6 }, (_, j) => 10 * k + ((m * 6 + j) % 7));
          expect(r.min).toBe(Math.min(...vals));
          expect(r.max).toBe(Math.max(...vals));
          expect(r.v).toBeCloseTo(vals.reduce((a, b) => a + b, 0) / 6, 9);
        });
      }
    } finally {
      setCommitSink(null);
    }
  });
  it("restarts count every sample in the rollup once, from an older or a newer snapshot cursor", async () => {
    const base = Date.UTC(2026, 10, 22, 0, 0, 0);
    const batch = (from: number, to: number) => [
      { metric: "resume_m", labels: {}, kind: "gauge" as const, tsMs: range(from, to).map((i) => base + i * step), values: range(from, to).map(() => 1) },
    ];
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
    const now = base + 200 * step;
    const start = await sequenceHead();
    // first life: reads 0–59, folds them, "snapshots" its cursor after 0–29 only
    await ingestSeries("resume", "remote_write", batch(0, 30), now);
    const olderCursor = await sequenceHead();
    await ingestSeries("resume", "remote_write", batch(30, 60), now);
    const first = new DetectPipeline(createEngine(), start, step, 100_000, await resumeRollup(start));
    await first.tick(now);
    await first.writeRollup(true);
    // restart from the older snapshot: 30–59 are read again but not folded again
    await ingestSeries("resume", "remote_write", batch(60, 90), now);
    const second = new DetectPipeline(createEngine(), olderCursor, step, 100_000, await resumeRollup(olderCursor));
    await second.tick(now);
    await second.writeRollup(true);
    // restart from a snapshot newer than the watermark: 90–119 are folded by SQL, not by the pipeline
    await ingestSeries("resume", "remote_write", batch(90, 120), now);
    const newerCursor = await sequenceHead();
    await ingestSeries("resume", "remote_write", batch(120, 150), now);
    const third = new DetectPipeline(createEngine(), newerCursor, step, 100_000, await resumeRollup(newerCursor));
    await third.tick(now);
    await third.writeRollup(true);
    const [stream] = await listStreams({ search: "resume_m" });
    const perMinute = await readSeries(stream!.id, base, base + 25 * 60_000, 25);
    // 150 samples of value 1 at 10 s: 25 minutes × 6 samples, each counted once (avg = sum / count = 1)
    expect(perMinute).toHaveLength(25);
    expect(perMinute.every((p) => p.v === 1 && p.min === 1 && p.max === 1)).toBe(true);
    expect(await rollupCount(stream!.id)).toBe(150);
    // the five-minute tier the 7-day page reads: 30 samples in each five minutes, as its minutes hold
    expect([...(await fiveMinuteCounts(stream!.id)).values()]).toEqual([30, 30, 30, 30, 30]);
    expect(await fiveMinuteDrift()).toEqual([]);
  });
});
