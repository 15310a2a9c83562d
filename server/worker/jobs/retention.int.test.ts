import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countSamples, rollupPending } from "../../repos/samples-repo";
import { countScores, flushScoreMinutes, insertScores } from "../../repos/scores-repo";
import { ingestSeries, invalidateSourceCache } from "../../services/ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { pool } from "../../db";
import { RetentionJob } from "./retention";

describe.each(availableBackends())("retention on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  it("removes samples, scores and rollups older than the retention period and keeps the rest", async () => {
    const now = Date.now();
    const day = 86_400_000;
    const tsMs = [now - 40 * day, now - 35 * day, now - 2 * day, now - 60_000];
    await ingestSeries("app", "remote_write", [{ metric: "m", labels: {}, kind: "gauge", tsMs, values: [1, 2, 3, 4] }], now);
    await rollupPending(); // the worker folds new samples into the 1-minute rollup
    const id = (await pool().query<{ id: number }>("SELECT id FROM stream WHERE metric = 'm'")).rows[0]!.id;
    await insertScores({ streamIds: tsMs.map(() => id), tsMs, score: [1, 2, 3, 4], confidence: [1, 1, 1, 1], expected: [1, 2, 3, 4], lower: [0, 0, 0, 0], upper: [9, 9, 9, 9] });
    await flushScoreMinutes();
    const job = new RetentionJob(() => 30 * day, () => undefined);
    const deleted = await job.run(now);
    expect(deleted.sample_block).toBe(2); // one block row per old sample here
    expect(deleted.sample_rollup_1m).toBe(2);
    expect(deleted.score_block).toBe(2);
    expect(deleted.score_rollup_1m).toBe(2);
    expect(await countScores()).toBe(2);
    expect(await countSamples()).toBe(2);
    const left = await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM sample_rollup_1m");
    expect(left.rows[0]!.n).toBe(2);
    expect((await job.run(now)).sample_block).toBe(0);
  });
});
