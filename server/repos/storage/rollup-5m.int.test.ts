import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { pool } from "../../db";
import { ingestSeries, invalidateSourceCache } from "../../services/ingest/ingest-service";
import { DETAIL_POINTS, getStreamDetail, RANGES } from "../../services/streams/stream-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { fiveMinuteCounts, fiveMinuteDrift } from "../../testing/rollup-tiers";
import { listStreams } from "../streams-repo";
import type { RollupColumns } from "./columns";
import { purgeStreamData } from "./purge";
import { writeRollup } from "./rollup";
import { readSeries } from "./samples";
import { dayOf, makeDays } from "./time-partitions";
import { flushScoreMinutes, insertScores, readScores } from "./scores";

vi.mock("server-only", () => ({}));

const MIN = 60_000;
const FIVE = 5 * MIN;
const DAY = 86_400_000;

/** Minute rows (minute index, value, count) of one stream, as the rollup buffer hands them out. */
function minutes(streamId: number, base: number, rows: [minute: number, v: number, count: number][]): RollupColumns {
  return {
    rows: rows.length,
    streamIds: Int32Array.from(rows, () => streamId),
    bucketMs: Float64Array.from(rows, ([m]) => base + m * MIN),
    min: Float64Array.from(rows, ([, v]) => v),
    max: Float64Array.from(rows, ([, v]) => v),
    sum: Float64Array.from(rows, ([, v, c]) => v * c),
    count: Int32Array.from(rows, ([, , c]) => c),
  };
}

/** The stream page's queries as they read the one-minute rows (before the five-minute tier). */
async function fromMinuteRows(streamId: number, fromMs: number, toMs: number, bucketMs: number) {
  const args = [streamId, fromMs, toMs, bucketMs];
  const where = "WHERE stream_id = $1 AND bucket >= to_timestamp($2 / 1000.0) AND bucket < to_timestamp($3 / 1000.0) GROUP BY 1 ORDER BY 1";
  const t = "(extract(epoch FROM date_bin(make_interval(secs => $4 / 1000.0), bucket, TIMESTAMPTZ '2000-01-01')) * 1000)::float8 AS t";
  const series = await pool().query(`SELECT ${t}, sum(sum) / nullif(sum(count), 0) AS v, min(min) AS min, max(max) AS max FROM sample_rollup_1m ${where}`, args);
  const scores = await pool().query(
    `SELECT ${t}, coalesce(max(score) FILTER (WHERE score <> 'NaN'), 'NaN') AS score, sum(confidence * n) / sum(n) AS confidence,
            sum(expected * n) / nullif(sum(n) FILTER (WHERE expected IS NOT NULL), 0) AS expected, min(lower) AS lower, max(upper) AS upper
     FROM score_rollup_1m ${where}`,
    args,
  );
  return { series: series.rows as Record<string, number | null>[], scores: scores.rows as Record<string, number | null>[] };
}

/** Same points, numbers equal up to float rounding (the tiers add in another order). */
function expectSamePoints(got: object[], want: Record<string, number | null>[]) {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    for (const [k, x] of Object.entries(g)) {
      const y = w[k];
      if (typeof x === "number" && typeof y === "number" && !Number.isNaN(y)) expect(x, `${i}.${k}`).toBeCloseTo(y, 9);
      else expect(x, `${i}.${k}`).toEqual(y);
    }
  });
}

describe.each(availableBackends())("five-minute rollup tier on %s", (backend) => {
  let tdb: TestDatabase;
  let ids: number[];
  const base = Date.UTC(2026, 10, 3, 10, 0);
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    await ingestSeries(
      "tier",
      "remote_write",
      ["a", "b", "c"].map((m) => ({ metric: `tier_${m}`, labels: {}, kind: "gauge" as const, tsMs: [base], values: [1] })),
      base + 1000,
    );
    ids = (await listStreams()).map((s) => s.id).sort((a, b) => a - b);
  });
  afterAll(async () => tdb.drop());

  it("holds what the minute rows hold, whichever way they were written, and the page reads the same from it", async () => {
    const id = ids[0]!;
    // a stream's first write (merged), later minutes (COPY on PostgreSQL), late rows for minutes
    // written before (merged into them), and a minute another writer stored first
    await writeRollup(minutes(id, base, [[0, 1, 2], [1, 2, 2], [2, 3, 2], [3, 4, 2], [4, 5, 2], [5, 6, 2], [6, 7, 2]]), 10);
    await writeRollup(minutes(id, base, [[7, 8, 2], [8, 9, 2], [9, 10, 2], [10, 11, 2], [11, 12, 2], [12, 13, 2], [13, 14, 2]]), 20);
    await writeRollup(minutes(id, base, [[2, 100, 1], [7, -5, 1], [7, 50, 3]]), 30);
    await pool().query("INSERT INTO sample_rollup_1m (stream_id, bucket, min, max, sum, count) VALUES ($1, to_timestamp($2 / 1000.0), 0, 0, 0, 1)", [id, base + 14 * MIN]);
    await writeRollup(minutes(id, base, [[14, 20, 4]]), 40);

    // scores every 15 s for 15 minutes: NaN scores, minutes without a forecast, a peak; then a
    // restart scores some of them again (their minutes are merged into the stored ones)
    const ts = Array.from({ length: 60 }, (_, i) => base + i * 15_000);
    await insertScores({
      streamIds: ts.map(() => id),
      tsMs: ts,
      score: ts.map((_, i) => (i % 11 === 3 ? Number.NaN : i === 33 ? 97 : i % 7)),
      confidence: ts.map((_, i) => 0.5 + (i % 3) / 10),
      expected: ts.map((_, i) => (Math.floor(i / 4) % 3 === 1 ? null : 10 + i)),
      lower: ts.map((_, i) => (i % 5 === 0 ? null : i - 20)),
      upper: ts.map((_, i) => 30 + (i % 4)),
    });
    await flushScoreMinutes();
    await insertScores({ streamIds: [id, id, id], tsMs: [base, base + 15_000, base + 9 * MIN], score: [99, 1, Number.NaN], confidence: [1, 1, 1], expected: [200, null, 7], lower: [-50, null, 0], upper: [1, 1, 90] });
    await flushScoreMinutes();

    expect(await fiveMinuteDrift()).toEqual([]);
    expect([...(await fiveMinuteCounts(id))]).toEqual([
      [base, 10 + 1],
      [base + FIVE, 10 + 4],
      [base + 2 * FIVE, 8 + 1 + 4],
    ]);
    // the 7-day page's shape (buckets of whole five minutes) over these 15 minutes: the same
    // points from the five-minute rows as from the minute rows
    const want = await fromMinuteRows(id, base, base + 15 * MIN, FIVE);
    const series = await readSeries(id, base, base + 15 * MIN, 3);
    expect(series.map((p) => p.t)).toEqual([base, base + FIVE, base + 2 * FIVE]);
    expect(series[0]).toMatchObject({ min: 1, max: 100 });
    expect(series[0]!.v).toBeCloseTo((2 * (1 + 2 + 3 + 4 + 5) + 100) / 11, 9);
    expectSamePoints(series, want.series);
    const scores = await readScores(id, base, base + 15 * MIN, 3);
    expect(scores[0]).toMatchObject({ t: base, score: 99, lower: -50 });
    expect(scores[1]!.score).toBe(97);
    expectSamePoints(scores, want.scores);
    // and over buckets of several five-minute rows
    const wide = await fromMinuteRows(id, base - 3 * FIVE, base + 3 * FIVE, 2 * FIVE);
    expectSamePoints(await readSeries(id, base - 3 * FIVE, base + 3 * FIVE, 3), wide.series);
    expectSamePoints(await readScores(id, base - 3 * FIVE, base + 3 * FIVE, 3), wide.scores);
  });

  it("follows deleted, narrowed and moved minutes: a retention cut inside five minutes, hand edits, a purged stream", async () => {
    const [a, b] = [ids[0]!, ids[1]!];
    await writeRollup(minutes(b, base, [[0, 1, 1], [3, 2, 1], [6, 3, 1]]), 50);
    await insertScores({ streamIds: [b, b], tsMs: [base, base + 6 * MIN], score: [1, 2], confidence: [1, 1], expected: [1, 1], lower: [0, 0], upper: [2, 2] });
    await flushScoreMinutes();
    expect([...(await fiveMinuteCounts(b))]).toEqual([[base, 2], [base + FIVE, 1]]);

    // retention drops minutes by their own time: the first two of stream a's first five minutes
    await pool().query("DELETE FROM sample_rollup_1m WHERE stream_id = $1 AND bucket < to_timestamp($2 / 1000.0)", [a, base + 2 * MIN]);
    await pool().query("DELETE FROM score_rollup_1m WHERE stream_id = $1 AND bucket < to_timestamp($2 / 1000.0)", [a, base + 2 * MIN]);
    expect((await fiveMinuteCounts(a)).get(base)).toBe(2 + 1 + 2 + 2);
    // edits by hand that no merge makes: extremes and scores lowered, minutes moved to other five minutes
    await pool().query("UPDATE sample_rollup_1m SET max = min, sum = min * count WHERE stream_id = $1", [a]);
    await pool().query("UPDATE score_rollup_1m SET score = 0, upper = NULL WHERE stream_id = $1 AND bucket < to_timestamp($2 / 1000.0)", [a, base + 6 * MIN]);
    await pool().query("UPDATE sample_rollup_1m SET bucket = bucket + interval '3 minutes' WHERE stream_id = $1 AND bucket >= to_timestamp($2 / 1000.0)", [a, base + 12 * MIN]);
    await pool().query("UPDATE score_rollup_1m SET bucket = bucket + interval '3 minutes' WHERE stream_id = $1 AND bucket >= to_timestamp($2 / 1000.0)", [a, base + 12 * MIN]);
    expect(await fiveMinuteDrift()).toEqual([]);
    expect((await readSeries(a, base, base + 15 * MIN, 3))[0]).toMatchObject({ min: 3, max: 5 }); // minutes 2–4 (100 was minute 2's max)
    const c = await pool().connect();
    try {
      await c.query("BEGIN");
      await purgeStreamData(c, b);
      await c.query("COMMIT");
    } finally {
      c.release();
    }
    expect((await fiveMinuteCounts(b)).size).toBe(0);
    expect(await fiveMinuteDrift()).toEqual([]);
  });

  it("draws the 7- and 30-day pages from the tier, with the minute rows' values, on ranges that do not start or end on five minutes", async () => {
    const id = ids[1]!; // purged above: only what is written here
    // 33 days of minutes before `base`, with gaps; scores with NaN and minutes without a forecast
    const first = base - 33 * DAY;
    const minutesSql = "generate_series(0, 33 * 1440 - 1) AS k WHERE k % 97 <> 5 AND k % 1440 NOT BETWEEN 600 AND 615";
    // written by hand, not through a writer that makes its days
    await makeDays(Array.from({ length: 35 }, (_, k) => dayOf(first) + k));
    await pool().query(
      `INSERT INTO sample_rollup_1m (stream_id, bucket, min, max, sum, count)
       SELECT $1, to_timestamp($2::float8 / 1000 + k * 60), 50 + sin(k / 300.0) * 20 - k % 7, 50 + sin(k / 300.0) * 20 + k % 11,
              (50 + sin(k / 300.0) * 20) * (1 + k % 4), 1 + k % 4
       FROM ${minutesSql}`,
      [id, first],
    );
    await pool().query(
      `INSERT INTO score_rollup_1m (stream_id, bucket, score, confidence, expected, lower, upper, n)
       SELECT $1, to_timestamp($2::float8 / 1000 + k * 60), CASE WHEN k % 13 = 0 THEN 'NaN'::float8 ELSE ((k * 7919) % 100)::float8 END, 0.5 + (k % 5) / 10.0,
              CASE WHEN k % 17 < 3 THEN NULL ELSE 40 + k % 9 END, CASE WHEN k % 19 = 0 THEN NULL ELSE 30 - k % 6 END, 60 + k % 8, 1 + k % 6
       FROM ${minutesSql}`,
      [id, first],
    );
    expect(await fiveMinuteDrift()).toEqual([]);
    const now = base;
    // a window ending at an odd moment, as a preset ending now does: the 5-minute rows at its
    // ends hold minutes outside it (the data run on to `base`)
    const toMs = base - 2 * DAY + 2 * MIN + 17_500;
    for (const range of ["7d", "30d"] as const) {
      const d = await getStreamDetail(id, { fromMs: toMs - RANGES[range], toMs }, now);
      const want = await fromMinuteRows(id, toMs - RANGES[range], toMs, range === "7d" ? FIVE : 25 * MIN);
      expect(want.series.length).toBeGreaterThan(range === "7d" ? 1900 : 1700);
      expectSamePoints(d.series, want.series);
      expectSamePoints(d.scores, want.scores);
    }
    // 30 days in 25-minute buckets: 1,728, plus one as both ends are partial (no gap spans a bucket)
    const month = await getStreamDetail(id, { fromMs: toMs - RANGES["30d"], toMs }, now);
    expect(month.series).toHaveLength(1729);
    expect(month.scores).toHaveLength(1729);
    expect(month.series.length).toBeLessThanOrEqual(DETAIL_POINTS);
    expect(month.series[1]!.t - month.series[0]!.t).toBe(25 * MIN);

    // what comes from the tier: raise its rows (the triggers watch the minute rows only). Every
    // bucket inside the window's whole five minutes moves; the ends may hold minutes only
    await pool().query("UPDATE sample_rollup_5m SET max = max + 1000 WHERE stream_id = $1", [id]);
    await pool().query("UPDATE score_rollup_5m SET upper = upper + 1000 WHERE stream_id = $1", [id]);
    const want = await fromMinuteRows(id, toMs - RANGES["30d"], toMs, 25 * MIN);
    const raised = await getStreamDetail(id, { fromMs: toMs - RANGES["30d"], toMs }, now);
    const moved = (got: { max?: number | null; upper?: number | null }[], key: "max" | "upper", w: Record<string, number | null>[]) =>
      got.map((p, i) => Math.round((p[key] ?? 0) - (w[i]![key] ?? 0)));
    for (const m of [moved(raised.series, "max", want.series), moved(raised.scores, "upper", want.scores)]) {
      expect(m.slice(1, -1).every((x) => x === 1000)).toBe(true);
      expect([0, 1000]).toContain(m[0]);
      expect([0, 1000]).toContain(m.at(-1));
    }
    await pool().query("SELECT sample_rollup_5m_recount(array_agg(stream_id), array_agg(bucket)) FROM sample_rollup_5m WHERE stream_id = $1", [id]);
    await pool().query("SELECT score_rollup_5m_recount(array_agg(stream_id), array_agg(bucket)) FROM score_rollup_5m WHERE stream_id = $1", [id]);
    expect(await fiveMinuteDrift()).toEqual([]);
  });

  it.runIf(backend === "postgres")("stays exact beside concurrent writers of the same five minutes, in either order", async () => {
    const id = ids[2]!;
    const t = base + 12 * FIVE;
    await writeRollup(minutes(id, t, [[0, 1, 1], [3, 1, 1], [4, 1, 1]]), 60);
    const connect = async () => {
      const c = new pg.Client({ connectionString: tdb.url });
      await c.connect();
      return c;
    };
    const [a, b, probe] = [await connect(), await connect(), await connect()];
    const waitingOnLock = async () => {
      for (let i = 0; i < 200; i++) {
        const r = await probe.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
        if (r.rows[0]!.n > 0) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error("the second writer never waited for the five-minute row");
    };
    const insertMinute = (c: pg.Client, m: number) =>
      c.query("INSERT INTO sample_rollup_1m (stream_id, bucket, min, max, sum, count) VALUES ($1, to_timestamp($2 / 1000.0), 5, 5, 5, 1)", [id, t + m * MIN]);
    const deleteMinute = (c: pg.Client, m: number) => c.query("DELETE FROM sample_rollup_1m WHERE stream_id = $1 AND bucket = to_timestamp($2 / 1000.0)", [id, t + m * MIN]);
    const mergeMinute = (c: pg.Client, m: number) =>
      c.query("UPDATE sample_rollup_1m SET max = GREATEST(max, 9), sum = sum + 9, count = count + 1 WHERE stream_id = $1 AND bucket = to_timestamp($2 / 1000.0)", [id, t + m * MIN]);
    /** `first` in one transaction, holding the five-minute row; `second` in another must wait for it. */
    const race = async (first: (c: pg.Client) => Promise<unknown>, second: (c: pg.Client) => Promise<unknown>) => {
      await a.query("BEGIN");
      await b.query("BEGIN");
      await first(a);
      const waiting = second(b);
      await waitingOnLock();
      await a.query("COMMIT");
      await waiting;
      await b.query("COMMIT");
      return fiveMinuteCounts(id).then((m) => m.get(t));
    };
    try {
      // a new minute holds the row, then retention deletes another: the recount waits and counts it
      expect(await race((c) => insertMinute(c, 1), (c) => deleteMinute(c, 3))).toBe(3);
      expect(await fiveMinuteDrift()).toEqual([]);
      // the recount of a deletion holds the row while a new minute arrives: that adds to it
      expect(await race((c) => deleteMinute(c, 4), (c) => insertMinute(c, 2))).toBe(3);
      expect(await fiveMinuteDrift()).toEqual([]);
      // a merge beside a new minute: both add
      expect(await race((c) => mergeMinute(c, 0), (c) => insertMinute(c, 3))).toBe(5);
      expect(await fiveMinuteDrift()).toEqual([]);
    } finally {
      await Promise.all([a.end(), b.end(), probe.end()]);
    }
  });
});
