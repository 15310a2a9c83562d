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
