import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";
import { pool } from "../../db";
import { sequenceHead } from "../../repos/storage/samples";
import { scoredSeq } from "../../repos/storage/scores";
import { listStreams } from "../../repos/streams-repo";
import { setCommitSink } from "../../services/ingest/group-commit";
import { ingestSeries, invalidateSourceCache, type IncomingSeries } from "../../services/ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { fiveMinuteDrift } from "../../testing/rollup-tiers";
import { DetectPipeline } from "./detect-pipeline";
import { createEngine, restoreEngine, withSettings } from "../../services/detection/engine-adapter";
import { resumeRollup } from "./resume-rollup";

/**
 * Regressions of issue 14: stored samples that were never scored (the gap read's cursor, history
 * sent right after a start, one stream's future timestamps), and a crash that scored samples
 * twice. Each counts score slots in the database against the samples it stored.
 */
const step = 10_000;

/** Stored score slots of the streams whose metric starts with `prefix`: (stream, ts) pairs, and all rows (re-writes included). */
async function scoreSlots(prefix: string): Promise<{ distinct: number; rows: number }> {
  const ids = (await listStreams({ search: prefix })).map((s) => s.id);
  const res = await pool().query<{ distinct: string; rows: string }>(
    `SELECT count(DISTINCT (s.id, b.ts))::bigint AS distinct, count(*)::bigint AS rows
     FROM score_block b JOIN unnest($1::int[]) AS s(id) ON b.block = s.id / 32 AND b.mask & (1 << (s.id % 32)) <> 0`,
    [ids],
  );
  return { distinct: Number(res.rows[0]!.distinct), rows: Number(res.rows[0]!.rows) };
}

/** Every score of the streams with `prefix` (decoded as the charts read them), keyed by stream metric and time. */
async function scoreMap(prefix: string, fromMs: number, toMs: number): Promise<Map<string, number>> {
  const { readScores } = await import("../../repos/storage/scores");
  const out = new Map<string, number>();
  for (const s of await listStreams({ search: prefix })) {
    for (const p of await readScores(s.id, fromMs, toMs, 1_000_000)) out.set(`${s.metric}@${p.t}`, p.score);
  }
  return out;
}

async function drain(p: DetectPipeline, nowMs: number): Promise<void> {
  while ((await p.tick(nowMs)) > 0) {
    /* next batch */
  }
  await p.tick(nowMs);
  await p.drain();
}

function gauge(metric: string, tsMs: number[], value: (i: number) => number): IncomingSeries {
  return { metric, labels: {}, kind: "gauge", tsMs, values: tsMs.map((_, i) => value(i)) };
}

describe.each(availableBackends())("scoring regressions on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  it("readGap: a short read of whole block rows does not move the cursor past rows it did not return", async () => {
    const base = Date.UTC(2026, 9, 1);
    const now = base + 400 * step;
    // 40 streams: each timestamp is two block rows (32 + 8 samples)
    const series = (from: number, to: number) =>
      Array.from({ length: 40 }, (_, k) => gauge(`gap_${String(k).padStart(2, "0")}`, Array.from({ length: to - from }, (_, i) => base + (from + i) * step), (i) => k + noise(i + k)));
    const cursor = await sequenceHead();
    // a commit the pipeline does not get handed (a CSV import, a re-send), then one it does
    await ingestSeries("gap", "remote_write", series(0, 200), now);
    const pipeline = new DetectPipeline(createEngine(), cursor, step, 50);
    setCommitSink((b) => pipeline.handoff.offer(b));
    try {
      await ingestSeries("gap", "remote_write", series(200, 300), now);
    } finally {
      setCommitSink(null);
    }
    expect(pipeline.handoff.firstHeldSeq()).not.toBeNull();
    await drain(pipeline, now);
    // a read of 50 samples returns one 32-sample row: before the fix the cursor then jumped to the held batch
    expect(pipeline.stats.samplesRead).toBe(40 * 300);
    expect(await scoreSlots("gap_")).toEqual({ distinct: 40 * 300, rows: 40 * 300 });
  });

  it("one stream's future timestamps do not stop the others being scored; its own are scored when their time comes", async () => {
    const now0 = Date.UTC(2026, 9, 2, 12, 0, 0);
    const pipeline = new DetectPipeline(createEngine(), await sequenceHead(), step, 100_000);
    const live = (from: number, to: number) =>
      ["fut_live_a", "fut_live_b"].map((m, k) => gauge(m, Array.from({ length: to - from }, (_, i) => now0 + (from + i) * step), (i) => 10 * k + noise(from + i)));
    // ten minutes of live data as it arrives
    for (let c = 0; c < 6; c++) {
      const nowMs = now0 + (10 * c + 10) * step;
      await ingestSeries("fut", "remote_write", live(10 * c, 10 * c + 10), nowMs);
      await pipeline.tick(nowMs);
    }
    let nowMs = now0 + 60 * step;
    // a new stream with two samples 4 and 8 minutes ahead of the wall clock
    await ingestSeries("fut", "remote_write", [gauge("fut_ahead", [nowMs + 240_000, nowMs + 480_000], (i) => i)], nowMs);
    await pipeline.tick(nowMs);
    const clockBefore = pipeline.engine.lastStepMs(0);
    expect(clockBefore).toBeLessThanOrEqual(nowMs);
    // the live streams go on for another two minutes and are all scored
    for (let c = 6; c < 18; c++) {
      nowMs = now0 + (c * 10 + 10) * step;
      await ingestSeries("fut", "remote_write", live(10 * c, 10 * c + 10), nowMs);
      await pipeline.tick(nowMs);
    }
    await pipeline.tick(nowMs + 3 * step);
    await pipeline.drain();
    expect(await scoreSlots("fut_live_")).toEqual({ distinct: 2 * 180, rows: 2 * 180 });
    expect(pipeline.stats.lateSamples).toBe(0);
    // the future samples waited for the wall clock and are scored once it passed them
    expect((await scoreSlots("fut_ahead")).distinct).toBe(2);
  });

  it("history sent right after a start (before and after live data moves the clock) is scored, not dropped as late", async () => {
    const now = Date.UTC(2026, 9, 3, 12, 0, 0);
    const histStart = now - 2 * 3600_000; // two hours of history, up to ten minutes ago
    const histSteps = 660;
    const pipeline = new DetectPipeline(createEngine(), await sequenceHead(), step, 5_000); // a fresh engine: no live clock yet
    const hist = (from: number, to: number) =>
      ["late_h_a", "late_h_b", "late_h_c"].map((m, k) => gauge(m, Array.from({ length: to - from }, (_, i) => histStart + (from + i) * step), (i) => 50 + k + noise(from + i + 17 * k)));
    // the first chunk of history, then live data (the host collector's, a scrape), then the rest
    for (let c = 0; c < histSteps; c += 110) {
      await ingestSeries("late", "prometheus_pull", hist(c, c + 110), now);
      await ingestSeries("live", "remote_write", [gauge("late_live", [now - (6 - c / 110) * step], () => 1)], now);
      await pipeline.tick(now, { overlap: true });
    }
    await drain(pipeline, now + 3 * step);
    expect(pipeline.stats.lateSamples).toBe(0);
    expect(await scoreSlots("late_h_")).toEqual({ distinct: 3 * histSteps, rows: 3 * histSteps });
    expect((await scoreSlots("late_live")).distinct).toBe(6);
  });

  it("a crash and a replay from the last snapshot give the rows of an uninterrupted run, each score written once", async () => {
    const base = Date.UTC(2026, 9, 4);
    const steps = 900;
    const now = base + steps * step + 600_000;
    const data = (from: number, to: number) =>
      ["crash_a", "crash_b", "crash_c"].map((m, k) =>
        gauge(m, Array.from({ length: to - from }, (_, i) => base + (from + i) * step), (i) => (from + i >= 700 && from + i < 705 && k === 1 ? 400 : 100 + 5 * noise(from + i + 31 * k))),
      );
    const start = await sequenceHead();
    for (let c = 0; c < steps; c += 100) await ingestSeries("crash", "remote_write", data(c, c + 100), now);
    const end = await sequenceHead();

    // uninterrupted run; its results are kept, then the derived rows are cleared for the second run
    const clean = new DetectPipeline(createEngine(), start, step, 40, await resumeRollup(start));
    await drain(clean, now);
    const expectedScores = await scoreMap("crash_", base, now);
    const anomalies = async () =>
      (await pool().query<{ k: string }>("SELECT engine_id || ':' || (extract(epoch FROM start_at) * 1000)::bigint || ':' || coalesce((extract(epoch FROM end_at) * 1000)::bigint, 0) || ':' || round(peak_score::numeric, 6) AS k FROM anomaly ORDER BY 1")).rows.map((r) => r.k);
    const expectedAnomalies = await anomalies();
    expect(expectedAnomalies.length).toBeGreaterThan(0);
    await pool().query("DELETE FROM score_block; DELETE FROM score_rollup_1m; DELETE FROM anomaly");
    await pool().query("DELETE FROM setting WHERE key = 'worker_scored_seq'");

    // first life: a "snapshot" part-way, more rounds scored and written, then a crash (no clean stop)
    const first = new DetectPipeline(createEngine(), start, step, 40, await resumeRollup(start));
    for (let i = 0; i < 20; i++) await first.tick(now);
    await first.drain();
    const snapState = first.engine.serialize();
    const snapCursor = first.safeCursor();
    await first.flushScoreMinutes(); // as Worker.snapshot does
    expect(snapCursor).toBeLessThanOrEqual(first.cursor);
    for (let i = 0; i < 25; i++) await first.tick(now);
    await first.drain();
    const scored = await scoredSeq();
    expect(scored).toBeGreaterThan(snapCursor);
    expect(scored).toBeLessThan(end);

    // second life: restore, replay what was scored after the snapshot, then go on
    const second = new DetectPipeline(restoreEngine(snapState), snapCursor, step, 40, await resumeRollup(snapCursor));
    second.replayUntil = second.suppressUpTo = scored;
    await drain(second, now);
    await second.writeRollup(true);
    expect(second.stats.replaySkipped).toBeGreaterThan(0);
    // the 1-minute rollup: every sample once (6 a minute), although the first life wrote rows past its snapshot
    const rollup = await pool().query<{ n: number; minutes: number; bad: number }>(
      `SELECT sum(r.count)::int AS n, count(*)::int AS minutes, count(*) FILTER (WHERE r.count <> 6)::int AS bad
       FROM sample_rollup_1m r JOIN stream s ON s.id = r.stream_id WHERE s.metric LIKE 'crash_%'`,
    );
    expect(rollup.rows[0]).toEqual({ n: 3 * steps, minutes: (3 * steps) / 6, bad: 0 });
    // its five-minute tier too (30 a row), and the score tier holds what its minutes hold
    await second.flushScoreMinutes();
    const tiers = await pool().query<{ n: number; rows: number; bad: number; scores: number; minute_scores: number }>(
      `SELECT sum(r.count)::int AS n, count(*)::int AS rows, count(*) FILTER (WHERE r.count <> 30)::int AS bad,
              (SELECT sum(x.n)::int FROM score_rollup_5m x JOIN stream y ON y.id = x.stream_id WHERE y.metric LIKE 'crash_%') AS scores,
              (SELECT sum(x.n)::int FROM score_rollup_1m x JOIN stream y ON y.id = x.stream_id WHERE y.metric LIKE 'crash_%') AS minute_scores
       FROM sample_rollup_5m r JOIN stream s ON s.id = r.stream_id WHERE s.metric LIKE 'crash_%'`,
    );
    expect(tiers.rows[0]).toMatchObject({ n: 3 * steps, rows: (3 * steps) / 30, bad: 0 });
    // every score once in its minute: 6 a minute (before the fix the replay's fold still held the
    // first life's open minutes and wrote them again: 2,724 for 2,700)
    const minuteN = await pool().query<{ n: number; bad: number }>(
      `SELECT sum(r.n)::int AS n, count(*) FILTER (WHERE r.n <> 6)::int AS bad FROM score_rollup_1m r JOIN stream s ON s.id = r.stream_id WHERE s.metric LIKE 'crash_%'`,
    );
    expect(minuteN.rows[0]).toEqual({ n: 3 * steps, bad: 0 });
    expect(tiers.rows[0]!.scores).toBe(tiers.rows[0]!.minute_scores);
    expect(await fiveMinuteDrift()).toEqual([]);

    expect(await scoreSlots("crash_")).toEqual({ distinct: 3 * steps, rows: 3 * steps });
    const got = await scoreMap("crash_", base, now);
    expect(got.size).toBe(expectedScores.size);
    for (const [k, v] of expectedScores) expect(got.get(k), k).toBe(v);
    expect(await anomalies()).toEqual(expectedAnomalies);
  });

  // A minute still open in the fold at a snapshot holds scores at or below the snapshot's cursor,
  // which a restore does not read again: the snapshot writes the open minutes (Worker.snapshot).
  // Before it did, a crash right after a snapshot lost them (2,697 for 2,700). Scores of that
  // minute stored after the snapshot, before the minute was written again, are folded in by the
  // replay: the row's rev_hi says which stored scores it counts.
  it.each([
    { when: "right after", after: 0, day: 6 },
    { when: "two rounds after", after: 2, day: 7 },
  ])("a crash $when a snapshot, with the snapshot's minute still open, counts every score of it once", async ({ after, day }) => {
    const base = Date.UTC(2026, 9, day);
    const steps = 300;
    const now = base + steps * step + 600_000;
    const prefix = `snapcrash${after}_`;
    const data = (from: number, to: number) =>
      ["a", "b", "c"].map((m, k) => gauge(prefix + m, Array.from({ length: to - from }, (_, i) => base + (from + i) * step), (i) => 100 + 5 * noise(from + i + 31 * k)));
    const start = await sequenceHead();
    for (let c = 0; c < steps; c += 100) await ingestSeries(prefix, "remote_write", data(c, c + 100), now);
    await pool().query("DELETE FROM setting WHERE key = 'worker_scored_seq'");
    // one step (3 samples) a round, so that a round after the snapshot stays in its minute
    const first = new DetectPipeline(createEngine(), start, step, 3, await resumeRollup(start));
    for (let i = 0; i < 20; i++) await first.tick(now);
    await first.drain();
    // the snapshot (as Worker.snapshot takes it), a few more rounds, then the crash (no clean stop)
    const snapState = first.engine.serialize();
    const snapCursor = first.safeCursor();
    await first.flushScoreMinutes();
    for (let i = 0; i < after; i++) await first.tick(now);
    await first.drain();
    const second = new DetectPipeline(restoreEngine(snapState), snapCursor, step, 40, await resumeRollup(snapCursor));
    second.replayUntil = second.suppressUpTo = await scoredSeq();
    await drain(second, now);
    await second.writeRollup(true);
    await second.flushScoreMinutes();
    const minuteN = await pool().query<{ n: number; bad: number }>(
      `SELECT sum(r.n)::int AS n, count(*) FILTER (WHERE r.n <> 6)::int AS bad FROM score_rollup_1m r JOIN stream s ON s.id = r.stream_id WHERE s.metric LIKE '${prefix}%'`,
    );
    expect(await scoreSlots(prefix)).toEqual({ distinct: 3 * steps, rows: 3 * steps });
    expect(minuteN.rows[0]).toEqual({ n: 3 * steps, bad: 0 });
  });

  it("late samples (behind their clock) are scored once each, on a scratch copy: the live models are not changed", async () => {
    const base = Date.UTC(2026, 9, 5);
    // the engine as the worker runs it: with the saved configuration applied
    const pipeline = new DetectPipeline(withSettings(createEngine()), await sequenceHead(), step, 100_000);
    const ts = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => base + (from + i) * step);
    const value = (k: number) => (i: number) => 10 * k + noise(i + 13 * k);
    // 80 steps as they arrive; late_c's scrapes of steps 30-49 lag behind (a slow remote_write shard)
    for (let c = 0; c < 80; c += 10) {
      const batch = [gauge("late_s_a", ts(c, c + 10), value(0)), gauge("late_s_b", ts(c, c + 10), value(1))];
      if (c < 30 || c >= 50) batch.push(gauge("late_s_c", ts(c, c + 10), (i) => value(2)(c + i)));
      await ingestSeries("lates", "remote_write", batch, base + (c + 12) * step);
      await pipeline.tick(base + (c + 12) * step);
    }
    await pipeline.drain();
    expect(pipeline.stats.lateSamples).toBe(0);
    const snapState = pipeline.engine.serialize();
    const snapCursor = pipeline.safeCursor();
    const before = Buffer.from(snapState);
    // the lagging scrapes arrive, and a sample of late_s_b between two of its scored ones
    await ingestSeries(
      "lates",
      "remote_write",
      [gauge("late_s_c", ts(30, 50), (i) => value(2)(30 + i)), gauge("late_s_b", [base + 40 * step + 5_000], () => 55)],
      base + 92 * step,
    );
    await pipeline.tick(base + 92 * step);
    await pipeline.drain();
    expect(pipeline.stats.lateSamples).toBe(21);
    expect(pipeline.stats.lateScored).toBe(21);
    // a round of late samples only: the live models are exactly as before it
    expect(Buffer.from(pipeline.engine.serialize()).equals(before)).toBe(true);
    // the newest step, held back while samples were coming, is scored once the round is quiet
    await pipeline.tick(base + 95 * step);
    await pipeline.drain();
    // every stored sample of the three streams has exactly one score row
    expect(await scoreSlots("late_s_")).toEqual({ distinct: 3 * 80 + 1, rows: 3 * 80 + 1 });
    // the off-grid value 55 on a stream around 10 is anomalous
    const b = await scoreMap("late_s_b", base, base + 100 * step);
    expect(b.get(`late_s_b@${base + 40 * step + 5_000}`)).toBeGreaterThan(b.get(`late_s_b@${base + 40 * step}`)!);

    // a crash after that round: the replay from the earlier snapshot writes none of them again
    const replay = new DetectPipeline(withSettings(restoreEngine(snapState)), snapCursor, step, 100_000);
    replay.replayUntil = replay.suppressUpTo = await scoredSeq();
    await drain(replay, base + 95 * step);
    expect(replay.stats.lateScored).toBe(21);
    expect(replay.stats.replaySkipped).toBeGreaterThanOrEqual(21);
    expect(await scoreSlots("late_s_")).toEqual({ distinct: 3 * 80 + 1, rows: 3 * 80 + 1 });
  });
});
