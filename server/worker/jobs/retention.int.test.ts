import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { pool } from "../../db";
import { rollupPending } from "../../repos/storage/rollup";
import { setPartitionClock } from "../../repos/storage/time-partitions";
import { listStreams } from "../../repos/streams-repo";
import { createEngine } from "../../services/detection/engine-adapter";
import { ingestSeries, invalidateSourceCache } from "../../services/ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { DetectPipeline } from "../pipeline/detect-pipeline";
import { RetentionJob } from "./retention";

const day = 86_400_000;

async function left(id: number) {
  const q = async (sql: string) => Number((await pool().query<{ n: string }>(sql, [id])).rows[0]!.n);
  return {
    samples: await q("SELECT count(*) AS n FROM sample WHERE stream_id = $1"),
    scores: await q("SELECT count(*) AS n FROM score_block WHERE block = $1 / 32 AND mask & (1 << ($1 % 32)) <> 0"),
    sampleMinutes: await q("SELECT count(*) AS n FROM sample_rollup_1m WHERE stream_id = $1"),
    scoreMinutes: await q("SELECT count(*) AS n FROM score_rollup_1m WHERE stream_id = $1"),
  };
}

describe.each(availableBackends())("retention on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  it("keeps each stream's newest 30 days of data, measured from its own newest sample, not the wall clock", async () => {
    const now = Date.UTC(2026, 10, 20, 12, 0, 0);
    // the partitions' notion of "recent" follows the data's now, not today's date
    setPartitionClock(() => now);
    onTestFinished(() => setPartitionClock(null));
    // a live stream, one that stopped 35 days ago (same source: they share block rows), and a 2014 import
    const live = [now - 40 * day, now - 35 * day, now - 2 * day, now - 60_000];
    const stopped = [now - 80 * day + 1000, now - 50 * day + 1000, now - 35 * day + 1000];
    const imported = Array.from({ length: 60 }, (_, k) => Date.UTC(2014, 0, 1) + k * day);
    await ingestSeries("app", "remote_write", [
      { metric: "live_m", labels: {}, kind: "gauge", tsMs: live, values: live.map((_, k) => k) },
      { metric: "stopped_m", labels: {}, kind: "gauge", tsMs: stopped, values: stopped.map((_, k) => k) },
    ], now);
    await ingestSeries("history.csv", "csv", [{ metric: "imported_m", labels: {}, kind: "gauge", tsMs: imported, values: imported.map((_, k) => k) }], now);
    // the worker scores them and records each stream's newest sample
    const pipeline = new DetectPipeline(createEngine(), 0, 10_000, 100_000);
    await pipeline.tick(now);
    await pipeline.tick(now);
    await pipeline.drain();
    await pipeline.flushStreams();
    await rollupPending();
    await pipeline.flushScoreMinutes();
    const id = async (m: string) => (await listStreams({ search: m }))[0]!.id;
    const [liveId, stoppedId, importId] = [await id("live_m"), await id("stopped_m"), await id("imported_m")];
    expect((await left(importId)).samples).toBe(60);

    const logged: string[] = [];
    const job = new RetentionJob(() => 30 * day, (m) => logged.push(m));
    const deleted = await job.run(now);
    // live: the samples 40 and 35 days old go; stopped: only the one 45 days before its last
    expect(await left(liveId)).toEqual({ samples: 2, scores: 2, sampleMinutes: 2, scoreMinutes: 2 });
    expect(await left(stoppedId)).toEqual({ samples: 2, scores: 2, sampleMinutes: 2, scoreMinutes: 2 });
    // the 2014 import keeps its own last 30 days (days 29…59 of 60), though they are 12 years old
    expect((await left(importId)).samples).toBe(31);
    expect((await left(importId)).sampleMinutes).toBe(31);
    // the day 40 days back holds only the live stream's sample: its tables are dropped (the
    // import's cut, 2014-01-30, does not hold it back). Row by row: the live sample 35 days back
    // (its day also holds the stopped stream's last, which it keeps), the stopped one 80 days
    // back (September's month partition holds days it keeps), and the import's days 0…28 (in
    // January 2014's month partition, which still holds days it keeps)
    expect(deleted.partitions).toBe(6);
    expect(deleted.sample_block).toBe(1 + 1 + 29);
    // said: what stays before the window, and for which streams
    expect(logged).toContainEqual(expect.stringMatching(/^retention: 6 day\/month partitions between 2014-01-01 and 2026-10-17 lie before the 30-day window but stay: .*history\.csv imported_m \(stream \d+, newest sample 2014-03-01\)/));
    // September's month partition, emptied row by row, holds no stream's data now: the next run drops it
    const again = await job.run(now);
    expect(again.partitions).toBe(6);
    expect(Object.entries(again).every(([t, n]) => t === "partitions" || n === 0)).toBe(true);
  });
});

describe.each(availableBackends())("retention beside old imports on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  it("drops the live streams' expired days as tables while imports of old data, done or still running, keep their own", async () => {
    const now = Date.UTC(2026, 10, 20, 12, 0, 0);
    setPartitionClock(() => now);
    onTestFinished(() => setPartitionClock(null));
    // two live streams, a sample a day for 13 days; with 7 days kept, the days 12…8 back expire
    const live = Array.from({ length: 13 }, (_, k) => now - (12 - k) * day);
    await ingestSeries("app", "remote_write", ["live_a", "live_b"].map((metric) => ({ metric, labels: {}, kind: "gauge" as const, tsMs: live, values: live.map((_, k) => k) })), now);
    // a finished import of January 2014, scored: it keeps its last 7 days of it
    const imported = Array.from({ length: 20 }, (_, k) => Date.UTC(2014, 0, 1) + k * day);
    await ingestSeries("history.csv", "csv", [{ metric: "imported_m", labels: {}, kind: "gauge", tsMs: imported, values: imported.map((_, k) => k) }], now);
    const pipeline = new DetectPipeline(createEngine(), 0, 10_000, 100_000);
    await pipeline.tick(now);
    await pipeline.tick(now);
    await pipeline.drain();
    await pipeline.flushStreams();
    await rollupPending();
    await pipeline.flushScoreMinutes();
    // an import still running: stored, not scored yet, so its stream has no newest sample
    const running = Array.from({ length: 5 }, (_, k) => Date.UTC(2015, 5, 1) + k * day);
    await ingestSeries("running.csv", "csv", [{ metric: "running_m", labels: {}, kind: "gauge", tsMs: running, values: running.map((_, k) => k) }], now);
    const id = async (m: string) => (await listStreams({ search: m }))[0]!.id;
    const [a, importId, runningId] = [await id("live_a"), await id("imported_m"), await id("running_m")];
    expect((await pool().query("SELECT 1 FROM stream WHERE id = $1 AND last_sample_at IS NULL", [runningId])).rowCount).toBe(1);

    const logged: string[] = [];
    const deleted = await new RetentionJob(() => 7 * day, (m) => logged.push(m)).run(now);
    // the five expired days go whole: six tables each, no row deleted one by one there
    expect(deleted.partitions).toBe(5 * 6);
    // (the newest step, held back while more may come, is not scored yet)
    expect(await left(a)).toEqual({ samples: 8, scores: 7, sampleMinutes: 8, scoreMinutes: 7 });
    // the finished import loses its days before its own cut (2014-01-13), row by row (its month holds days it keeps)
    expect(await left(importId)).toMatchObject({ samples: 8, sampleMinutes: 8 });
    expect(deleted.sample_block).toBe(12);
    // the running one keeps everything until it has a newest sample
    expect((await left(runningId)).samples).toBe(5);
    // and the operator is told why data older than the window stays
    const kept = logged.find((m) => m.includes("lie before the 7-day window"));
    expect(kept).toMatch(/^retention: 2 day\/month partitions between 2014-01-01 and 2015-07-01 .*history\.csv imported_m \(stream \d+, newest sample 2014-01-20\); running\.csv running_m \(stream \d+, no newest sample yet: still being stored\)\. Delete those streams to free them\.$/);
  });
});

// PGlite has one session: nothing can hold a table while the job runs
describe.skipIf(!process.env.TEST_DATABASE_URL)("retention's day drop on postgres", () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase("postgres");
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  it("says when it gave way to a session holding the tables, leaves their days whole, and drops them at the next run", async () => {
    const now = Date.now();
    await ingestSeries("app", "remote_write", [{ metric: "held_m", labels: {}, kind: "gauge", tsMs: [now - 10 * day, now - 60_000], values: [1, 2] }], now);
    await pool().query("UPDATE stream SET last_sample_at = to_timestamp($1 / 1000.0)", [now - 60_000]);
    const logged: string[] = [];
    const job = new RetentionJob(() => 7 * day, (m) => logged.push(m));
    // a session idle in a transaction that read sample_block keeps its lock until it ends
    const idle = new pg.Client({ connectionString: tdb.url });
    await idle.connect();
    try {
      await idle.query("BEGIN");
      await idle.query("SELECT count(*) FROM sample_block");
      // nothing goes: neither the day's tables nor, one by one, its rows (the next run drops them)
      expect(await job.run(now)).toMatchObject({ partitions: 0, sample_block: 0 });
      expect(await pool().query("SELECT 1 FROM sample WHERE ts = to_timestamp($1 / 1000.0)", [now - 10 * day])).toMatchObject({ rowCount: 1 });
      expect(logged).toEqual([expect.stringMatching(/^retention: expired days are due but their tables stayed busy \(4 attempts, 1\.\d s waited for their locks\); dropping nothing until the next run$/)]);
      await idle.query("COMMIT");
    } finally {
      await idle.end();
    }
    expect((await job.run(now)).partitions).toBe(6);
    expect(await pool().query("SELECT 1 FROM sample WHERE ts = to_timestamp($1 / 1000.0)", [now - 10 * day])).toMatchObject({ rowCount: 0 });
    expect(logged[1]).toMatch(/^retention: dropped 6 day tables \(locks held \d+ ms, commit \d+ ms\)$/);
  });
});
