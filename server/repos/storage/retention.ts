import type pg from "pg";
import { pool } from "../../db";
import { inTransaction } from "../transaction";
import { DAY_MS, dayOf, forgetDays, listDayPartitions, TIME_PARTITIONED, type DayPartition } from "./time-partitions";

/**
 * Retention by data time: each stream keeps the `retentionMs` of data before its own newest
 * sample (`stream.last_sample_at`), not before the wall clock. For a live stream that is the
 * last N days; a CSV import of 2014 keeps its last N days of 2014 instead of vanishing at the
 * next run. A stream without a newest sample yet keeps everything; a stream that was deleted
 * keeps nothing.
 *
 * Data goes by whole days (UTC): a stream's cut is the start of the day that holds
 * `last_sample_at - retentionMs`, so a stream keeps at least its window and at most a day more.
 * Days are the tables' partitions (time-partitions.ts): a day before every stream's cut is
 * dropped as a whole (DROP TABLE of its partitions, no row is read), and only the rest, days that
 * some streams still keep, are cleared row by row. With like windows on live streams every day
 * goes by a drop; rows go one by one only around streams whose newest data is much older than
 * the others' (an import of 2014 holds the drops of every day since 2014 back to its own cut).
 * History sits in month partitions (time-partitions.ts): a month goes as a whole once all of it
 * lies before every stream's cut, until then row by row.
 *
 * Samples and scores are stored in rows shared by 32 consecutive stream ids (sample-blocks.ts):
 * a row goes once every sample (score) in it is past its own stream's cut. Deletes run in
 * bounded batches (short transactions, no long locks).
 */

const DAY_START = (t: string) => `date_bin('1 day', ${t}, TIMESTAMPTZ '2000-01-01 00:00:00+00')`;
const CUT_OF = (s: string) => DAY_START(`${s}.last_sample_at - make_interval(secs => $1 / 1000.0)`);

/** Per block of 32 ids: each slot's cutoff (`cuts[k + 1]`), and the latest of them. */
const CUTOFFS = `
  WITH ids AS (SELECT DISTINCT id / 32 AS block FROM stream),
  cut AS (
    SELECT g.block,
      array_agg(CASE WHEN s.id IS NULL THEN 'infinity'::timestamptz
                     WHEN s.last_sample_at IS NULL THEN '-infinity'::timestamptz
                     ELSE ${CUT_OF("s")} END ORDER BY k) AS cuts
    FROM ids g CROSS JOIN generate_series(0, 31) k LEFT JOIN stream s ON s.id = g.block * 32 + k
    GROUP BY g.block),
  c AS (SELECT block, cuts, (SELECT max(x) FROM unnest(cuts) x WHERE x < 'infinity') AS max_cut FROM cut)`;

/** The rows of one day table (`t`, a partition of `parent`) past their streams' cuts, by ctid. */
const EXPIRED: Record<string, (t: string) => string> = {
  sample_block: (t) => `${CUTOFFS}
    SELECT b.ctid FROM c JOIN ${t} b ON b.block = c.block AND b.ts < c.max_cut
    WHERE NOT EXISTS (SELECT 1 FROM unnest(b.vals) WITH ORDINALITY v(x, k) WHERE v.x IS NOT NULL AND b.ts >= c.cuts[v.k])
    LIMIT $2`,
  score_block: (t) => `${CUTOFFS}
    SELECT b.ctid FROM c JOIN ${t} b ON b.block = c.block AND b.ts < c.max_cut
    WHERE NOT EXISTS (SELECT 1 FROM generate_series(0, 31) k WHERE b.mask & (1 << k) <> 0 AND b.ts >= c.cuts[k + 1])
    LIMIT $2`,
  sample_rollup_1m: (t) => `SELECT r.ctid FROM ${t} r LEFT JOIN stream s ON s.id = r.stream_id
    WHERE s.id IS NULL OR r.bucket < ${CUT_OF("s")} LIMIT $2`,
  score_rollup_1m: (t) => `SELECT r.ctid FROM ${t} r LEFT JOIN stream s ON s.id = r.stream_id
    WHERE s.id IS NULL OR r.bucket < ${CUT_OF("s")} LIMIT $2`,
};

/**
 * How a drop waits for the tables' readers and writers: while its lock request waits, their new
 * statements queue behind it, so one attempt stalls ingest at most `waitMs`. After `attempts`
 * attempts `pauseMs` apart (holding nothing in between) it gives way to them; the next run
 * drops the day. Measured with 2 s in one attempt, ingest requests in flight waited up to 2.05 s.
 */
export interface DropLockWait {
  waitMs: number;
  attempts: number;
  pauseMs: number;
}
export const DROP_LOCK_WAIT: DropLockWait = { waitMs: 250, attempts: 4, pauseMs: 2_000 };

/** The earliest cut of any stream (-∞ while one has no newest sample yet) and the latest, in epoch ms. */
async function cutRange(q: Pick<pg.Pool, "query">, retentionMs: number): Promise<{ first: number; last: number }> {
  const res = await q.query<{ first: number; last: number | null }>(
    `SELECT extract(epoch FROM coalesce(min(CASE WHEN last_sample_at IS NULL THEN '-infinity' ELSE ${CUT_OF("stream")} END), 'infinity')) * 1000 AS first,
            extract(epoch FROM max(${CUT_OF("stream")})) * 1000 AS last FROM stream`,
    [retentionMs],
  );
  return { first: Number(res.rows[0]!.first), last: Number(res.rows[0]!.last ?? -Infinity) };
}

/** What one attempt to drop expired days did. */
export interface DayDrop {
  /** tables dropped (0 when no day was due, or the locks were not granted) */
  tables: number;
  /** how long the locks were waited for, ms (0 when no day was due); the tables' new statements queue meanwhile */
  waitMs: number;
  /** from the locks granted to the DROP done, ms: every read and write of the six tables waits this long, plus the commit's WAL flush */
  heldMs: number;
  /**
   * the COMMIT, ms: its WAL flush (locks still held), then the tables' files unlinked, which
   * PostgreSQL does after it has released the locks
   */
  commitMs: number;
  /** the locks were not granted in any attempt (`DROP_LOCK_WAIT`; or a writer deadlocked with them): nothing dropped, the next run tries again */
  gaveWay: boolean;
  /** lock attempts made (0 when no day was due) */
  attempts: number;
  /** when it gave way, the tables that were due: left whole for the next run's drop */
  left: string[];
}

/**
 * Drops the day partitions that lie wholly before every stream's cut, and before today (the
 * days made ahead for live writes stay). A first look without locks: most runs have no whole
 * day to drop and lock nothing. Otherwise under ACCESS EXCLUSIVE locks on the parents, taken
 * before the cut is read again, so a write that committed before sees its stream counted, and
 * one that comes after finds its day gone and makes it again (`inTransaction`). The locks are
 * waited for briefly, a few times (`DROP_LOCK_WAIT`).
 */
export async function dropExpiredDays(retentionMs: number, nowMs = Date.now(), lock: DropLockWait = DROP_LOCK_WAIT): Promise<DayDrop> {
  const candidates = (await listDayPartitions()).filter((p) => p.endDay <= dayOf(nowMs));
  const expired = (cut: number) => candidates.filter((p) => p.endDay * DAY_MS <= cut);
  const due = expired((await cutRange(pool(), retentionMs)).first);
  if (due.length === 0) return { tables: 0, waitMs: 0, heldMs: 0, commitMs: 0, gaveWay: false, left: [], attempts: 0 };
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    const d = await dropAttempt(expired, retentionMs, lock.waitMs);
    waited += d.waitMs;
    if (!d.gaveWay) return { ...d, waitMs: waited, left: [], attempts: attempt };
    if (attempt >= Math.max(1, lock.attempts)) return { ...d, waitMs: waited, left: due.map((p) => p.table), attempts: attempt };
    await new Promise((r) => setTimeout(r, lock.pauseMs));
  }
}

/** One attempt of `dropExpiredDays` under a lock wait of `waitMs`. */
async function dropAttempt(expired: (cut: number) => DayPartition[], retentionMs: number, waitMs: number): Promise<Omit<DayDrop, "left" | "attempts">> {
  const t = { asked: performance.now(), granted: 0, done: 0 };
  try {
    const dropped = await inTransaction(async (client) => {
      await client.query(`SET LOCAL lock_timeout = '${Math.max(1, Math.round(waitMs))}ms'`);
      t.asked = performance.now();
      await client.query(`LOCK TABLE ${TIME_PARTITIONED.join(", ")} IN ACCESS EXCLUSIVE MODE`);
      t.granted = performance.now();
      const gone = expired((await cutRange(client, retentionMs)).first);
      if (gone.length) await client.query(`DROP TABLE ${gone.map((p) => `"${p.table}"`).join(", ")}`);
      t.done = performance.now();
      return gone;
    });
    const committed = performance.now();
    forgetDays(dropped.flatMap((p) => Array.from({ length: p.endDay - p.day }, (_, k) => p.day + k)));
    return { tables: dropped.length, waitMs: t.granted - t.asked, heldMs: t.done - t.granted, commitMs: committed - t.done, gaveWay: false };
  } catch (e) {
    // lock_not_available, deadlock_detected (a writer held one parent and wanted another): give way
    if (["55P03", "40P01"].includes((e as { code?: string }).code ?? "")) {
      return { tables: 0, waitMs: performance.now() - t.asked, heldMs: 0, commitMs: 0, gaveWay: true };
    }
    throw e;
  }
}

/**
 * Deletes what is past each stream's retention cut: whole days first (`dropExpiredDays`, whose
 * outcome goes to `onDrop`), then rows of the days that were not due for a drop. Returns the
 * rows deleted per table and the day tables dropped (`partitions`).
 */
export async function deleteExpired(
  retentionMs: number,
  batch = 50_000,
  maxBatches = 20,
  nowMs = Date.now(),
  onDrop: (d: DayDrop) => void = () => undefined,
): Promise<Record<string, number>> {
  const drop = await dropExpiredDays(retentionMs, nowMs);
  onDrop(drop);
  const out: Record<string, number> = { partitions: drop.tables };
  // days the drop gave way on are left whole: deleting their rows one by one is the write
  // and vacuum load the drop exists to avoid, and the next run drops them
  const left = new Set(drop.left);
  const days = (await listDayPartitions()).filter((p) => !left.has(p.table));
  for (const [parent, victims] of Object.entries(EXPIRED)) {
    let total = 0;
    // day by day: a ctid names a row within one table only (each partition has a (0,1))
    const key = parent.endsWith("_block") ? "ts" : "bucket";
    for (const { table, day, endDay } of days.filter((p) => p.parent === parent)) {
      // on the parent, pruned to the partition by its bounds: a DELETE on the partition would not
      // fire the parent's statement triggers (the five-minute tier)
      const inDay = `${key} >= to_timestamp(${day * 86_400}) AND ${key} < to_timestamp(${endDay * 86_400})`;
      for (let i = 0; i < maxBatches; i++) {
        const res = await pool().query(`DELETE FROM ${parent} WHERE ${inDay} AND ctid = ANY(ARRAY(${victims(`"${table}"`)}))`, [retentionMs, batch]);
        total += res.rowCount ?? 0;
        if ((res.rowCount ?? 0) < batch) break;
      }
    }
    out[parent] = total;
  }
  return out;
}
