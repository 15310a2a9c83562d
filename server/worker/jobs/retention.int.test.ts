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

    const job = new RetentionJob(() => 30 * day, () => undefined);
    const deleted = await job.run();
    // live: the samples 40 and 35 days old go; stopped: only the one 45 days before its last
    expect(await left(liveId)).toEqual({ samples: 2, scores: 2, sampleMinutes: 2, scoreMinutes: 2 });
    expect(await left(stoppedId)).toEqual({ samples: 2, scores: 2, sampleMinutes: 2, scoreMinutes: 2 });
    // the 2014 import keeps its own last 30 days (days 29…59 of 60), though they are 12 years old
    expect((await left(importId)).samples).toBe(31);
    expect((await left(importId)).sampleMinutes).toBe(31);
    // row by row: the import's cut (2014-01-30) holds back every drop, and its own days 0…28 sit
    // in January 2014's month partition, which still holds days it keeps
    expect(deleted.sample_block).toBe(2 + 1 + 29);
    expect(deleted.partitions).toBe(0);
    expect(Object.values(await job.run()).every((n) => n === 0)).toBe(true);
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
