import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pool } from "../../db";
import { ingestSeries, invalidateSourceCache } from "../../services/ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { PACK_SCORE_ROWS_SQL } from "./score-pack-sql";
import { countScores, flushScoreMinutes, insertScores, peakScore, readScores, scoredStreamIds } from "./scores";
import { listStreams } from "../streams-repo";

const MIN = 60_000;

describe.each(availableBackends())("score blocks on %s", (backend) => {
  let tdb: TestDatabase;
  let ids: number[];
  const t0 = Date.UTC(2026, 10, 1);
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    // 40 streams: ids span two blocks of 32
    await ingestSeries(
      "s",
      "remote_write",
      Array.from({ length: 40 }, (_, i) => ({ metric: `m${i}`, labels: {}, kind: "gauge" as const, tsMs: [t0], values: [i] })),
      t0 + 1000,
    );
    ids = (await listStreams()).map((s) => s.id).sort((a, b) => a - b);
  });
  afterAll(async () => tdb.drop());

  it("stores scores with optional bands, keeps NaN scores, and a re-score supersedes", async () => {
    const id = ids[0]!;
    await insertScores({ streamIds: [id, id], tsMs: [t0, t0 + 1000], score: [12.5, Number.NaN], confidence: [0.5, 1], expected: [1, null], lower: [0, Number.NaN], upper: [2, null] });
    let rows = await readScores(id, t0, t0 + 2000, 10);
    expect(rows[0]).toMatchObject({ t: t0, score: 12.5, confidence: 0.5, expected: 1, lower: 0, upper: 2 });
    expect(rows[1]!.score).toBeNaN();
    expect(rows[1]).toMatchObject({ expected: null, lower: null, upper: null });
    // a lower re-score must replace, not lose to the old value under max()
    await insertScores({ streamIds: [id], tsMs: [t0], score: [3], confidence: [1], expected: [3], lower: [2], upper: [4] });
    rows = await readScores(id, t0, t0 + 2000, 10);
    expect(rows[0]).toMatchObject({ score: 3, expected: 3, lower: 2, upper: 4 });
    expect(rows).toHaveLength(2);
  });

  it("keeps every stream of a step apart, across blocks, and counts them", async () => {
    const t = t0 + 10 * MIN;
    await insertScores({
      streamIds: ids,
      tsMs: ids.map(() => t),
      score: ids.map((_, i) => i),
      confidence: ids.map(() => 0.9),
      expected: ids.map((_, i) => 100 + i),
      lower: ids.map(() => null),
      upper: ids.map(() => null),
    });
    for (const [i, id] of ids.entries()) {
      const [p] = await readScores(id, t, t + 1000, 10);
      expect(p).toMatchObject({ t, score: i, expected: 100 + i });
      expect(p!.confidence).toBeCloseTo(0.9, 6);
    }
    expect(await countScores(t)).toBe(40);
    expect(await scoredStreamIds()).toEqual(ids);
    const rows = await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM score_block WHERE ts = to_timestamp($1 / 1000.0)", [t]);
    expect(rows.rows[0]!.n).toBeLessThanOrEqual(3); // 40 consecutive ids: two or three blocks, not 40 rows
  });

  it("downsamples to the max score per bucket and finds the peak", async () => {
    const id = ids[1]!;
    const base = t0 + 20 * MIN;
    const n = 120; // 10 s apart: 20 minutes
    const ts = Array.from({ length: n }, (_, i) => base + i * 10_000);
    const score = ts.map((_, i) => (i === 77 ? 97 : i === 78 ? Number.NaN : 10 + (i % 5)));
    await insertScores({ streamIds: ts.map(() => id), tsMs: ts, score, confidence: ts.map(() => 1), expected: ts.map(() => 5), lower: ts.map(() => 4), upper: ts.map(() => 6) });
    const halfMinutes = await readScores(id, base, base + n * 10_000, 40); // 30-s buckets
    expect(halfMinutes).toHaveLength(40);
    expect(halfMinutes[25]).toMatchObject({ t: base + 25 * 30_000, score: 97 }); // the peak, with a NaN beside it
    const peak = await peakScore(id, base, base + n * 10_000);
    expect(peak).toMatchObject({ t: base + 77 * 10_000, score: 97, expected: 5 });
    const fine = await readScores(id, base, base + 5 * MIN, 300); // 1-s buckets: raw points
    expect(fine).toHaveLength(30);
    expect(fine.map((p) => p.score)).toEqual(score.slice(0, 30));
  });

  it("answers long ranges from one-minute rows with the minute's peak, and merges a minute written twice", async () => {
    const id = ids[2]!;
    const base = t0 + 60 * MIN;
    const ts = Array.from({ length: 60 }, (_, i) => base + i * 15_000); // 15 minutes
    const score = ts.map((_, i) => (i === 21 ? 88 : 5));
    await insertScores({ streamIds: ts.map(() => id), tsMs: ts, score, confidence: ts.map(() => 0.5), expected: ts.map((_, i) => i), lower: ts.map(() => -1), upper: ts.map((_, i) => (i === 30 ? 50 : 1)) });
    await flushScoreMinutes();
    // 2000 points over 2000 hours: hour buckets (aligned like date_bin's) from the minute blocks
    const long = await readScores(id, base - 1000 * 3_600_000, base + 1000 * 3_600_000, 2000);
    expect(long.map((p) => p.t)).toEqual([t0, base]); // the earlier test's step at t0 + 10 min, and this hour
    expect(long[1]).toMatchObject({ score: 88, lower: -1, upper: 50 });
    expect(long[1]!.expected).toBeCloseTo(29.5, 6);
    expect(long[1]!.confidence).toBeCloseTo(0.5, 6);
    const minutes = await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM score_rollup_1m WHERE stream_id = $1 AND bucket >= to_timestamp($2 / 1000.0)", [id, base]);
    expect(minutes.rows[0]!.n).toBe(15);
    // a restart re-scores the hour's first minute with a higher peak: merged, not duplicated or refused
    await insertScores({ streamIds: [id, id], tsMs: [base, base + 15_000], score: [99, 1], confidence: [0.5, 0.5], expected: [100, 100], lower: [-5, -1], upper: [1, 1] });
    await flushScoreMinutes();
    const merged = await readScores(id, base - 1000 * 3_600_000, base + 1000 * 3_600_000, 2000);
    expect(merged[1]).toMatchObject({ score: 99, lower: -5, upper: 50 });
    expect(merged[1]!.expected).toBeCloseTo((29.5 * 60 + 200) / 62, 6);
    const day = await readScores(id, base, base + 86_400_000, 2000); // 24 h: one-minute points
    expect(day).toHaveLength(15);
    expect(day[5]).toMatchObject({ t: base + 5 * MIN, score: 88 }); // point 21, 15 s apart
  });

  it("packs rows of the old per-score layout (the migration's statements) into the same blocks", async () => {
    const id = ids[5]!;
    const base = t0 + 3 * 3_600_000;
    const client = await pool().connect();
    try {
      await client.query("CREATE TEMP TABLE score (stream_id int, ts timestamptz(3), score float8 NOT NULL, confidence float8 NOT NULL, expected float8, lower float8, upper float8)");
      await client.query(
        `INSERT INTO score SELECT $1, to_timestamp(($2::float8 + k * 10000) / 1000.0), CASE WHEN k = 7 THEN 'NaN'::float8 ELSE k END, 0.5, CASE WHEN k % 2 = 0 THEN k * 2 END, -k, k
         FROM generate_series(0, 11) k`,
        [id, base],
      );
      for (const sql of PACK_SCORE_ROWS_SQL) await client.query(sql);
      await client.query("DROP TABLE score");
    } finally {
      client.release();
    }
    const raw = await readScores(id, base, base + 120_000, 120);
    expect(raw).toHaveLength(12);
    expect(raw[4]).toMatchObject({ t: base + 40_000, score: 4, confidence: 0.5, expected: 8, lower: -4, upper: 4 });
    expect(raw[5]).toMatchObject({ score: 5, expected: null });
    expect(raw[7]!.score).toBeNaN();
    const long = await readScores(id, base - 1000 * 3_600_000, base + 1000 * 3_600_000, 2000);
    expect(long.at(-1)).toMatchObject({ t: base, score: 11, lower: -11, upper: 11 }); // the NaN at k = 7 does not win max()
  });
});
