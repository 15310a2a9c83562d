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
 * Days are the tables' partitions (time-partitions.ts): a day that no stream keeps any of (every
 * stream with data in it has its cut at or after the day's end) is dropped as a whole (DROP TABLE
 * of its partitions), and only the rest, days that some streams still keep, are cleared row by
 * row. With like windows on live streams every day goes by a drop; rows go one by one only in
 * the days shared with streams whose newest data is older than the others' (an import of 2014,
 * a stopped stream): such a stream holds back its own days, not the days after them.
 * History sits in month partitions (time-partitions.ts): a month goes as a whole once no stream
 * keeps any of it, until then row by row.
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

/** Whether stream `s` has data in one table of a period (an index probe on (block, ts) or (stream_id, bucket)). */
const HAS_DATA: Record<(typeof TIME_PARTITIONED)[number], (t: string) => string> = {
  sample_block: (t) => `EXISTS (SELECT 1 FROM ${t} b WHERE b.block = s.id / 32 AND b.vals[s.id % 32 + 1] IS NOT NULL)`,
  score_block: (t) => `EXISTS (SELECT 1 FROM ${t} b WHERE b.block = s.id / 32 AND b.mask & (1 << (s.id % 32)) <> 0)`,
  sample_rollup_1m: (t) => `EXISTS (SELECT 1 FROM ${t} r WHERE r.stream_id = s.id)`,
  score_rollup_1m: (t) => `EXISTS (SELECT 1 FROM ${t} r WHERE r.stream_id = s.id)`,
  sample_rollup_5m: (t) => `EXISTS (SELECT 1 FROM ${t} r WHERE r.stream_id = s.id)`,
  score_rollup_5m: (t) => `EXISTS (SELECT 1 FROM ${t} r WHERE r.stream_id = s.id)`,
};

/**
 * A stream that keeps some of a period (its cut lies inside or after the period's start, or it
 * has no newest sample yet) and has data in one of the period's `tables`: the period cannot go
 * as a whole. Null when none: every stream with data there is past it. Only the streams behind
 * the period's end are probed, a few index probes each; on a period before every live stream's
 * cut those are the stopped, imported and still-importing ones.
 */
async function keeperOf(q: Pick<pg.Pool, "query">, tables: readonly DayPartition[], retentionMs: number): Promise<number | null> {
  const probes = tables.map((p) => HAS_DATA[p.parent as keyof typeof HAS_DATA]?.(`"${p.table}"`) ?? "true");
  const res = await q.query<{ id: number }>(
    `SELECT s.id FROM stream s
     WHERE (s.last_sample_at IS NULL OR ${CUT_OF("s")} < to_timestamp(${tables[0]!.endDay * 86_400}))
       AND (${probes.join(" OR ")})
     LIMIT 1`,
    [retentionMs],
  );
  return res.rows[0]?.id ?? null;
}

/** A period that lies past the retention window by the wall clock, kept whole for a stream whose own newest data is older. */
export interface KeptPeriod {
  /** first day and the day after the last (epoch days, UTC) */
  day: number;
  endDay: number;
  /** one stream that keeps some of it */
  streamId: number;
}

/**
 * The periods (a day's or a month's tables of the six parents) among `parts` that can be
 * dropped: every stream that has data in one lies past it. A stream without data in a period
 * does not hold it back, so an import of 2014 (or one still running, whose streams have no
 * newest sample yet) keeps its own days only, not every day after them. Also the periods kept
 * although they end before `wallCut` (the window by the wall clock), with a stream keeping each.
 */
async function duePeriods(
  q: Pick<pg.Pool, "query">,
  parts: readonly DayPartition[],
  retentionMs: number,
  wallCut: number,
): Promise<{ due: DayPartition[]; kept: KeptPeriod[] }> {
  const { first, last } = await cutRange(q, retentionMs);
  const periods = new Map<number, DayPartition[]>();
  for (const p of parts) periods.set(p.day, [...(periods.get(p.day) ?? []), p]);
  const due: DayPartition[] = [];
  const kept: KeptPeriod[] = [];
  for (const tables of periods.values()) {
    const { day, endDay } = tables[0]!;
    const end = endDay * DAY_MS;
    // before every stream's cut: nothing to look at
    if (end <= first) due.push(...tables);
    // past the latest cut every stream with data there keeps it (an empty period stays too)
    else if (end <= last) {
      const keeper = await keeperOf(q, tables, retentionMs);
      if (keeper === null) due.push(...tables);
      else if (end <= wallCut) kept.push({ day, endDay, streamId: keeper });
    }
  }
  return { due, kept };
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
  /**
   * periods that end before today's window (now − retention) but stay, because a stream whose
   * own newest sample is older (an import of history, a stopped stream) keeps some of them
   */
  kept: KeptPeriod[];
}

/** The newest committed sample row's seq (0: none). */
async function newestSampleSeq(q: Pick<pg.Pool, "query">): Promise<number> {
  return Number((await q.query<{ s: number | null }>("SELECT max(seq) AS s FROM sample_block")).rows[0]!.s ?? 0);
}

/**
 * Drops the day (month) partitions that no stream keeps any of: every stream with data in one
 * has its cut at or after its end (`duePeriods`); and only before today (the days made ahead
 * for live writes stay). A first look without locks: most runs have no whole day to drop and
 * lock nothing. Otherwise under ACCESS EXCLUSIVE locks on the parents, taken before the due
 * periods are checked again, so a write that committed before is seen, and one that comes after
 * finds its day gone and makes it again (`inTransaction`). The locks are waited for briefly, a
 * few times (`DROP_LOCK_WAIT`).
 */
export async function dropExpiredDays(retentionMs: number, nowMs = Date.now(), lock: DropLockWait = DROP_LOCK_WAIT): Promise<DayDrop> {
  const candidates = (await listDayPartitions()).filter((p) => p.endDay <= dayOf(nowMs));
  // before the look: a sample committed after it has a higher seq (ingest draws them under its lock)
  const seenSeq = await newestSampleSeq(pool());
  const { due, kept } = await duePeriods(pool(), candidates, retentionMs, nowMs - retentionMs);
  if (due.length === 0) return { tables: 0, waitMs: 0, heldMs: 0, commitMs: 0, gaveWay: false, left: [], attempts: 0, kept };
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    const d = await dropAttempt(due, seenSeq, lock.waitMs);
    waited += d.waitMs;
    if (!d.gaveWay) return { ...d, waitMs: waited, left: [], attempts: attempt, kept };
    if (attempt >= Math.max(1, lock.attempts)) return { ...d, waitMs: waited, left: due.map((p) => p.table), attempts: attempt, kept };
    await new Promise((r) => setTimeout(r, lock.pauseMs));
  }
}

/**
 * One attempt of `dropExpiredDays` under a lock wait of `waitMs`: the `due` periods go, but for
 * those that got samples after `seenSeq` (the first look's newest), left for the next run. The
 * first look's streams and cuts cannot have made a period less due since (cuts only move later;
 * scores and rollups come from samples), so only new samples are looked for under the locks:
 * one index probe per period, where checking every stream again would hold ingest longer.
 */
async function dropAttempt(due: readonly DayPartition[], seenSeq: number, waitMs: number): Promise<Omit<DayDrop, "left" | "attempts" | "kept">> {
  const t = { asked: performance.now(), granted: 0, done: 0 };
  try {
    const dropped = await inTransaction(async (client) => {
      await client.query(`SET LOCAL lock_timeout = '${Math.max(1, Math.round(waitMs))}ms'`);
      t.asked = performance.now();
      await client.query(`LOCK TABLE ${TIME_PARTITIONED.join(", ")} IN ACCESS EXCLUSIVE MODE`);
      t.granted = performance.now();
      const written = new Set<number>();
      for (const p of due.filter((t) => t.parent === "sample_block")) {
        if ((await client.query(`SELECT 1 FROM "${p.table}" WHERE seq > $1 LIMIT 1`, [seenSeq])).rowCount) written.add(p.day);
      }
      const gone = due.filter((p) => !written.has(p.day));
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
