import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pool } from "../../db";
import { listMigrations, migrate, migrationsDir } from "../../migrate";
import { listStreams } from "../streams-repo";
import { ingestSeries, invalidateSourceCache } from "../../services/ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { deleteExpired, dropExpiredDays } from "./retention";
import { readSeries, sampleAt } from "./samples";
import { dayOf, DAY_MS, forgetDays, listDayPartitions, missingPartitionDay, setPartitionClock } from "./time-partitions";

const MIGRATION = "20261211100000_time_partitions";
const MONTHS = "20261212100000_history_month_partitions";
const PARENTS = ["sample_block", "score_block", "sample_rollup_1m", "score_rollup_1m", "sample_rollup_5m", "score_rollup_5m"];
/** The data's "now": days more than 62 before it are history (month partitions). */
const NOW = Date.UTC(2026, 11, 7);

/** Names of the partitions attached to `parent`. */
async function namesOf(parent: string): Promise<string[]> {
  const res = await pool().query<{ n: string }>(`SELECT c.relname AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`, [parent]);
  return res.rows.map((r) => r.n);
}

/** Day partitions attached to `parent`, as ISO days. */
async function daysOf(parent: string): Promise<string[]> {
  const res = await pool().query<{ d: string }>(
    `SELECT to_char(lower_b, 'YYYY-MM-DD') AS d FROM (
       SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz AT TIME ZONE 'UTC' AS lower_b
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass) x ORDER BY 1`,
    [parent],
  );
  return res.rows.map((r) => r.d);
}

describe.each(availableBackends())("time partitions on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    setPartitionClock(() => NOW);
  });
  afterAll(async () => {
    setPartitionClock(null);
    await tdb.drop();
  });

  it("makes a 2014 month's partitions when its samples arrive, and reads them back", async () => {
    const t = Date.UTC(2014, 5, 1, 12);
    expect(await daysOf("sample_block")).not.toContain("2014-06-01");
    const r = await ingestSeries("old.csv", "csv", [{ metric: "old_m", labels: {}, kind: "gauge", tsMs: [t, t + 60_000, t + DAY_MS], values: [1, 2, 3] }], NOW);
    expect(r.inserted).toBe(3);
    // history: one partition for June 2014 per table, not one per day
    for (const parent of PARENTS) {
      expect(await namesOf(parent)).toContain(`${parent}_p201406`);
      expect(await namesOf(parent)).not.toContain(`${parent}_p20140601`);
    }
    const id = (await listStreams({ search: "old_m" }))[0]!.id;
    expect(await sampleAt(id, t + 60_000)).toBe(2);
    expect((await readSeries(id, t, t + 2 * DAY_MS, 10_000)).map((p) => p.v)).toEqual([1, 2, 3]);
  });

  it("makes a day again when this process thought it existed (dropped by another process)", async () => {
    const t = Date.UTC(2013, 0, 5, 3);
    await ingestSeries("older.csv", "csv", [{ metric: "older_m", labels: {}, kind: "gauge", tsMs: [t], values: [5] }], NOW);
    // another process's retention dropped the month; this one's cache still has the day
    await pool().query(`DROP TABLE ${PARENTS.map((p) => `${p}_p201301`).join(", ")}`);
    const r = await ingestSeries("older.csv", "csv", [{ metric: "older_m", labels: {}, kind: "gauge", tsMs: [t + 1000], values: [6] }], NOW);
    expect(r.inserted).toBe(1);
    const id = (await listStreams({ search: "older_m" }))[0]!.id;
    expect(await sampleAt(id, t + 1000)).toBe(6);
  });

  it("is safe when several callers make the same day at once", async () => {
    const { makeDays } = await import("./time-partitions");
    const d = dayOf(Date.UTC(2012, 2, 3));
    forgetDays([d]);
    await Promise.all(Array.from({ length: 4 }, () => makeDays([d, d + 1])));
    expect((await namesOf("score_block")).filter((n) => n.startsWith("score_block_p201203"))).toEqual(["score_block_p201203"]);
  });

  it("drops the days before every stream's cut as tables, and keeps the others", async () => {
    // streams so far: old_m (newest 2014-06-02 12:00) and older_m (newest 2013-01-05), nothing scored yet: the worker has not
    // set their newest sample, so nothing may go
    const before = await listDayPartitions();
    expect((await deleteExpired(30 * DAY_MS, 50_000, 20, Date.UTC(2026, 11, 7))).partitions).toBe(0);
    expect(await listDayPartitions()).toEqual(before);
    await pool().query(`UPDATE stream SET last_sample_at = to_timestamp($1 / 1000.0) WHERE metric = 'old_m'`, [Date.UTC(2014, 5, 2, 12)]);
    await pool().query(`UPDATE stream SET last_sample_at = to_timestamp($1 / 1000.0) WHERE metric = 'older_m'`, [Date.UTC(2013, 0, 5, 3, 0, 1)]);
    // with 400 days older_m's cut is 2011-12-02, but March 2012 (made above, empty) holds no
    // stream's data: it goes; January 2013 is older_m's own and stays
    expect((await deleteExpired(400 * DAY_MS, 50_000, 20, NOW)).partitions).toBe(6);
    expect(await daysOf("sample_block")).not.toContain("2012-03-01");
    // with 30 days older_m's cut (2012-12-06) still lies before its January 2013
    const out = await deleteExpired(30 * DAY_MS, 50_000, 20, NOW);
    expect(out.partitions).toBe(0);
    expect(await daysOf("score_rollup_5m")).not.toContain("2012-03-01");
    expect(await daysOf("sample_block")).toEqual(expect.arrayContaining(["2013-01-01", "2014-06-01"]));
    const id = (await listStreams({ search: "old_m" }))[0]!.id;
    expect(await sampleAt(id, Date.UTC(2014, 5, 1, 12))).toBe(1);
    // once older_m is deleted, its month holds no stream's data and is dropped; old_m's stays
    await pool().query(`DELETE FROM stream WHERE metric = 'older_m'`);
    expect((await deleteExpired(30 * DAY_MS, 50_000, 20, NOW)).partitions).toBe(6);
    expect(await daysOf("sample_block")).not.toContain("2013-01-01");
    expect(await daysOf("sample_block")).toContain("2014-06-01");
    // the days made ahead for live writes (today by the wall clock) stay whatever the cuts say
    expect(await daysOf("sample_block")).toContain(new Date().toISOString().slice(0, 10));
  });

  it("gives recent days their own partitions, and a write spanning years one per month", async () => {
    // one sample on each of 400 days from 2010 (what one hostile request or a long import sends)
    const from = Date.UTC(2010, 0, 1, 6);
    const years = Array.from({ length: 400 }, (_, k) => from + k * DAY_MS);
    const recent = [NOW - 2 * DAY_MS, NOW - DAY_MS];
    const r = await ingestSeries("span.csv", "csv", [{ metric: "span_m", labels: {}, kind: "gauge", tsMs: [...years, ...recent], values: [...years, ...recent].map((_, k) => k) }], NOW);
    expect(r.inserted).toBe(402);
    for (const parent of PARENTS) {
      const names = await namesOf(parent);
      // January 2010 … February 2011: 14 months, not 400 days
      expect(names.filter((n) => /_p201[01]\d*$/.test(n))).toHaveLength(14);
      expect(names.filter((n) => /_p201[01]\d{4}$/.test(n))).toEqual([]);
      expect(names).toEqual(expect.arrayContaining([`${parent}_p20261205`, `${parent}_p20261206`]));
    }
    // a day of history in a month that already has day partitions (made while it was recent) gets its own
    await ingestSeries("span.csv", "csv", [{ metric: "oct_m", labels: {}, kind: "gauge", tsMs: [Date.UTC(2026, 9, 10)], values: [1] }], NOW);
    await ingestSeries("span.csv", "csv", [{ metric: "oct_m", labels: {}, kind: "gauge", tsMs: [Date.UTC(2026, 9, 2)], values: [2] }], NOW);
    expect(await namesOf("sample_block")).toEqual(expect.arrayContaining(["sample_block_p20261010", "sample_block_p20261002"]));
    expect(await namesOf("sample_block")).not.toContain("sample_block_p202610");
    const id = (await listStreams({ search: "span_m" }))[0]!.id;
    expect((await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM sample WHERE stream_id = $1", [id])).rows[0]!.n).toBe(402);
  });

  it("reads the failing day from PostgreSQL's no-partition error", () => {
    const e = { code: "23514", message: 'no partition of relation "sample_block" found for row', detail: "Partition key of the failing row contains (ts) = (2014-06-01 23:59:59.5+00)." };
    expect(missingPartitionDay(e)).toBe(dayOf(Date.UTC(2014, 5, 1)));
    expect(missingPartitionDay({ ...e, detail: "Partition key of the failing row contains (bucket) = (2014-06-01 23:30:00-02)." })).toBe(dayOf(Date.UTC(2014, 5, 2)));
    expect(missingPartitionDay({ code: "23514", message: "new row violates check constraint" })).toBeNull();
  });
});

describe.each(availableBackends())("the time-partition migration on %s", (backend) => {
  it("keeps the samples, scores and rollups of an installation that upgrades", async () => {
    // a database at the migration before, with a row in each table, then the migration
    const before = fs.mkdtempSync(path.join(os.tmpdir(), "omen-mig-"));
    for (const m of listMigrations()) {
      if (m.name >= MIGRATION) continue;
      fs.cpSync(path.join(migrationsDir(), m.name), path.join(before, m.name), { recursive: true });
    }
    const tdb = await createTestDatabase(backend, { migrationsDir: before });
    try {
      const t = "2015-03-04 05:06:07+00";
      await pool().query(`INSERT INTO sample_block (seq, block, ts, vals) VALUES (41, 0, $1, '{1.5,NULL,2.5}')`, [t]);
      await pool().query(`SELECT setval('sample_block_seq_seq', 41)`);
      await pool().query(`INSERT INTO score_block (block, ts, mask, data) VALUES (0, $1, 1, '\\x00')`, [t]);
      await pool().query(`INSERT INTO sample_rollup_1m (stream_id, bucket, min, max, sum, count) VALUES (2, '2015-03-04 05:06:00+00', 1, 2, 3, 2)`);
      await pool().query(`INSERT INTO score_rollup_1m (stream_id, bucket, score, confidence, n, rev_hi) VALUES (2, '2015-03-04 05:06:00+00', 0.5, 1, 1, 1)`);
      const applied = await migrate(tdb.url);
      // and every migration written after them
      expect(applied.applied).toEqual(listMigrations().map((m) => m.name).filter((n) => n >= MIGRATION));
      expect(applied.applied.slice(0, 2)).toEqual([MIGRATION, MONTHS]);
      expect((await pool().query("SELECT stream_id, value, seq FROM sample ORDER BY stream_id")).rows).toEqual([
        { stream_id: 0, value: 1.5, seq: 41 },
        { stream_id: 2, value: 2.5, seq: 41 },
      ]);
      expect((await pool().query("SELECT rev, mask FROM score_block")).rows).toEqual([{ rev: 1, mask: 1 }]);
      expect((await pool().query("SELECT count FROM sample_rollup_1m")).rows).toEqual([{ count: 2 }]);
      expect((await pool().query("SELECT count FROM sample_rollup_5m")).rows).toEqual([{ count: 2 }]);
      expect((await pool().query("SELECT n, rev_hi FROM score_rollup_1m")).rows).toEqual([{ n: 1, rev_hi: 1 }]);
      expect(await daysOf("sample_block")).toContain("2015-03-04");
      // the sequences go on where they were, and the five-minute triggers follow the minutes
      expect((await pool().query("SELECT nextval('sample_block_seq_seq') AS v")).rows[0]!.v).toBe(42);
      await pool().query(`INSERT INTO sample_rollup_1m (stream_id, bucket, min, max, sum, count) VALUES (2, '2015-03-04 05:07:00+00', 0, 9, 9, 1)`);
      expect((await pool().query("SELECT min, max, count FROM sample_rollup_5m")).rows).toEqual([{ min: 0, max: 9, count: 3 }]);
    } finally {
      await tdb.drop();
      fs.rmSync(before, { recursive: true, force: true });
    }
  });
});

// PGlite has one session: no write can wait on retention's locks there
describe.skipIf(!process.env.TEST_DATABASE_URL)("retention's drop against a write to the same day, on postgres", () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase("postgres");
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  it("keeps a write that queued behind the drop's locks and finds its day gone", async () => {
    const now = Date.now();
    const old = dayOf(now - 10 * DAY_MS) * DAY_MS + 3_600_000;
    // a live stream with a sample 10 days back: with 7 days' retention that day is due
    await ingestSeries("app", "remote_write", [{ metric: "late_m", labels: {}, kind: "gauge", tsMs: [old, now - 60_000], values: [1, 2] }], now);
    await pool().query(`UPDATE stream SET last_sample_at = to_timestamp($1 / 1000.0)`, [now - 60_000]);
    const day = `sample_block_p${new Date(old).toISOString().slice(0, 10).replaceAll("-", "")}`;
    expect(await namesOf("sample_block")).toContain(day);

    // a long reader holds the table, so the drop's ACCESS EXCLUSIVE request waits (here up to 2 s
    // in one attempt, so that the write below surely queues behind it)…
    const reader = new pg.Client({ connectionString: tdb.url });
    await reader.connect();
    const waiting = async () => Number((await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'sample_block'::regclass")).rows[0]!.n);
    const until = async (n: number) => {
      for (const t0 = Date.now(); (await waiting()) < n; ) {
        if (Date.now() - t0 > 1_500) throw new Error(`${n} lock waiters on sample_block expected`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    try {
      await reader.query("BEGIN");
      await reader.query("SELECT count(*) FROM sample_block");
      const drop = dropExpiredDays(7 * DAY_MS, now, { waitMs: 2_000, attempts: 1, pauseMs: 0 });
      await until(1);
      // …and a late sample for that day, whose partition this process has cached as made, queues behind it
      const write = ingestSeries("app", "remote_write", [{ metric: "late_m", labels: {}, kind: "gauge", tsMs: [old + 1_000], values: [7] }], now);
      await until(2);
      await reader.query("COMMIT");
      // the drop goes first; the write then finds no partition for its day, makes it and runs again
      expect(await drop).toMatchObject({ tables: 6, gaveWay: false });
      expect((await write).inserted).toBe(1);
    } finally {
      await reader.end();
    }
    const id = (await listStreams({ search: "late_m" }))[0]!.id;
    expect(await sampleAt(id, old + 1_000)).toBe(7);
    // the dropped day's other sample went with it, and the day was made anew for the late one
    expect(await sampleAt(id, old)).toBeNull();
    expect(await namesOf("sample_block")).toContain(day);
  });

  it("keeps a day that an import committed to while the drop waited for its locks", async () => {
    const now = Date.now();
    const old = dayOf(now - 20 * DAY_MS) * DAY_MS + 3_600_000;
    await ingestSeries("app", "remote_write", [{ metric: "due_m", labels: {}, kind: "gauge", tsMs: [old, now - 60_000], values: [1, 2] }], now);
    await pool().query(`UPDATE stream SET last_sample_at = to_timestamp($1 / 1000.0)`, [now - 60_000]);
    const day = `sample_block_p${new Date(old).toISOString().slice(0, 10).replaceAll("-", "")}`;
    // an import's first write, a new stream (no newest sample yet) with a sample in that day, not committed yet
    const importer = new pg.Client({ connectionString: tdb.url });
    await importer.connect();
    try {
      await importer.query("BEGIN");
      const { id } = (await importer.query<{ id: number }>("INSERT INTO stream (source_id, metric, key) SELECT id, 'import_m', 'import_m' FROM source LIMIT 1 RETURNING id")).rows[0]!;
      await importer.query("INSERT INTO sample_block (block, ts, vals) SELECT $1::int / 32, to_timestamp($2 / 1000.0), array_agg(CASE WHEN k = $1::int % 32 THEN 5.0 END ORDER BY k) FROM generate_series(0, 31) k", [id, old + 2_000]);
      // the first look (without locks) finds the day due; the drop then waits for the importer's lock
      const drop = dropExpiredDays(7 * DAY_MS, now, { waitMs: 3_000, attempts: 1, pauseMs: 0 });
      for (const t0 = Date.now(); ; await new Promise((r) => setTimeout(r, 5))) {
        const n = Number((await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'sample_block'::regclass")).rows[0]!.n);
        if (n > 0) break;
        if (Date.now() - t0 > 2_000) throw new Error("the drop did not wait for the importer's lock");
      }
      await importer.query("COMMIT");
      // checked again under the locks: the import keeps its day (the earlier test's day, 10 days
      // back, is due and goes)
      expect(await drop).toMatchObject({ tables: 6, gaveWay: false });
      expect(await namesOf("sample_block")).toContain(day);
      expect(await sampleAt(id, old + 2_000)).toBe(5);
    } finally {
      await importer.end();
    }
  });
});
