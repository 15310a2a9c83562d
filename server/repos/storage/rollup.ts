import type pg from "pg";
import { summableSql } from "@/lib/ingest/sample-bounds";
import { FIVE_MINUTES_MS } from "@/lib/series/chart-buckets";
import { databaseUrl, isEmbeddedUrl, pool } from "../../db";
import { inTransaction, isUniqueViolation } from "../transaction";
import type { RollupColumns } from "./columns";
import { inDerivedTransaction } from "./derived-writes";
import { copyBinaryIn, encodeBinaryCopy } from "./pg-binary-copy";
import { blocksAfter } from "./sample-blocks";

/**
 * The 1-minute rollup is maintained off the commit path: the worker folds the samples it reads
 * in memory (`writeRollup`), and `rollupPending()` folds in SQL what the worker will not read;
 * both advance one watermark in `setting` (every sample with seq ≤ it is folded). Doing it
 * inside every ingest transaction cost ~2/3 of the commit time (one upsert per sample).
 */
const ROLLUP_CURSOR_KEY = "rollup_seq";

/** Whether buckets of this width (aligned like date_bin from 2000-01-01) are whole five-minute rows (`chartBucketMs` makes every width from five minutes up one). */
export function fiveMinuteBuckets(bucketMs: number): boolean {
  return bucketMs >= FIVE_MINUTES_MS && bucketMs % FIVE_MINUTES_MS === 0;
}

/**
 * How a chart read over [fromMs, toMs) splits between the tiers: the five-minute rows that lie
 * wholly inside it, [midFromMs, midToMs), and the minute rows of the partial five minutes at
 * either end, [fromMs, headToMs) and [midToMs, toMs). Together they hold exactly the minute rows
 * of [fromMs, toMs), so a range that does not start or end on five minutes (a preset ending now)
 * draws the same first and last points as from the minute rows. 2000-01-01, the buckets' origin,
 * is a whole number of five minutes after the epoch.
 */
export function fiveMinuteSpan(fromMs: number, toMs: number): { headToMs: number; midFromMs: number; midToMs: number } {
  const midFromMs = Math.ceil(fromMs / FIVE_MINUTES_MS) * FIVE_MINUTES_MS;
  const midToMs = Math.max(midFromMs, Math.floor(toMs / FIVE_MINUTES_MS) * FIVE_MINUTES_MS);
  return { headToMs: Math.min(midFromMs, toMs), midFromMs, midToMs };
}

/**
 * Folds samples committed since the last call into the 1-minute rollup (min/max/sum/count per
 * stream and minute, over summable values only, as `RollupBuffer` does: see sample-bounds.ts), up to `limit` samples and seq `upToSeq`; returns how many it folded. Safe
 * to call from several processes (the cursor row is locked). Relies on seq order = commit
 * order. The worker folds what it scores in memory (`writeRollup`); this SQL path catches up
 * what the worker will not read again (after a restart from an older snapshot).
 */
export async function rollupPending(limit = 200_000, upToSeq = Number.MAX_SAFE_INTEGER): Promise<number> {
  return inTransaction(async (client) => {
    await client.query("INSERT INTO setting (key, value, updated_at) VALUES ($1, '0', now()) ON CONFLICT (key) DO NOTHING", [ROLLUP_CURSOR_KEY]);
    const cur = await client.query<{ value: string }>("SELECT value FROM setting WHERE key = $1 FOR UPDATE", [ROLLUP_CURSOR_KEY]);
    const cursor = Number(cur.rows[0]?.value ?? 0);
    const res = await client.query<{ last: number | null; n: number }>(
      `WITH batch AS (
         SELECT (b.block * 32 + u.k - 1)::int AS stream_id, b.ts, u.value, b.seq
         FROM (${blocksAfter("$1", "$3", "$2")}) b CROSS JOIN LATERAL unnest(b.vals) WITH ORDINALITY AS u(value, k)
         WHERE u.value IS NOT NULL
       ), roll AS (
         INSERT INTO sample_rollup_1m (stream_id, bucket, min, max, sum, count)
         SELECT stream_id, date_bin('1 minute', ts, TIMESTAMPTZ '2000-01-01'), min(value), max(value), sum(value), count(*)
         FROM batch WHERE ${summableSql("value")} GROUP BY 1, 2
         ${ROLLUP_MERGE}
       )
       SELECT max(seq) AS last, count(*)::int AS n FROM batch`,
      [cursor, limit, upToSeq],
    );
    const row = res.rows[0];
    if (row?.last) await client.query("UPDATE setting SET value = $2, updated_at = now() WHERE key = $1", [ROLLUP_CURSOR_KEY, String(row.last)]);
    return row?.n ?? 0;
  });
}

/**
 * Makes the rollup hold exactly the samples with seq ≤ `upToSeq` before a worker resumes folding
 * after it (a restart). Stored rows hold every sample ≤ the watermark, but a row completed
 * before a crash may also hold samples above it (another stream's open minute held the
 * watermark back), which the restarted worker would fold again. So every (stream, minute)
 * with a sample above the watermark is rebuilt from its samples ≤ `upToSeq`, in one
 * transaction with the watermark. Reads only block rows after the watermark (the replay
 * window) and the touched minutes.
 */
export async function rebuildRollupAfterWatermark(upToSeq: number): Promise<{ watermark: number; minutes: number }> {
  return inDerivedTransaction(async (client) => {
    await client.query("INSERT INTO setting (key, value, updated_at) VALUES ($1, '0', now()) ON CONFLICT (key) DO NOTHING", [ROLLUP_CURSOR_KEY]);
    const cur = await client.query<{ value: string }>("SELECT value FROM setting WHERE key = $1 FOR UPDATE", [ROLLUP_CURSOR_KEY]);
    const watermark = Number(cur.rows[0]?.value ?? 0);
    await client.query("CREATE TEMP TABLE IF NOT EXISTS tmp_rollup_touched (stream_id int, bucket timestamptz) ON COMMIT DROP");
    const touched = await client.query(
      `INSERT INTO tmp_rollup_touched
       SELECT DISTINCT (b.block * 32 + u.k - 1)::int, date_bin('1 minute', b.ts, TIMESTAMPTZ '2000-01-01')
       FROM sample_block b CROSS JOIN LATERAL unnest(b.vals) WITH ORDINALITY AS u(value, k)
       WHERE b.seq > $1 AND u.value IS NOT NULL`,
      // samples above the older of the two: above the watermark (maybe folded in completed rows)
      // and above the resume cursor (folded again when the worker reads them)
      [Math.min(watermark, upToSeq)],
    );
    if (touched.rowCount) {
      // the tables are partitioned by day: the bounds keep the join to the touched days (the replay
      // window), and each touched minute reads its block rows by a probe (LATERAL) rather than a
      // join that the planner, pricing a probe into every day, would hash over whole tables
      await client.query(
        `DELETE FROM sample_rollup_1m r USING tmp_rollup_touched t WHERE r.stream_id = t.stream_id AND r.bucket = t.bucket
         AND r.bucket >= (SELECT min(bucket) FROM tmp_rollup_touched) AND r.bucket <= (SELECT max(bucket) FROM tmp_rollup_touched)`,
      );
      await client.query(
        `INSERT INTO sample_rollup_1m (stream_id, bucket, min, max, sum, count)
         SELECT t.stream_id, t.bucket, min(v.value), max(v.value), sum(v.value), count(*)
         FROM tmp_rollup_touched t
         CROSS JOIN LATERAL (SELECT b.vals[t.stream_id % 32 + 1] AS value FROM sample_block b
           WHERE b.block = t.stream_id / 32 AND b.ts >= t.bucket AND b.ts < t.bucket + interval '1 minute' AND b.seq <= $1) v
         WHERE v.value IS NOT NULL AND ${summableSql("v.value")}
         GROUP BY 1, 2`,
        [upToSeq],
      );
    }
    await client.query("UPDATE setting SET value = $2, updated_at = now() WHERE key = $1", [ROLLUP_CURSOR_KEY, String(upToSeq)]);
    return { watermark: upToSeq, minutes: touched.rowCount ?? 0 };
  });
}



/** Every sample with seq ≤ this is folded into sample_rollup_1m. */
export async function rollupWatermark(): Promise<number> {
  const res = await pool().query<{ value: string }>("SELECT value FROM setting WHERE key = $1", [ROLLUP_CURSOR_KEY]);
  return Number(res.rows[0]?.value ?? 0);
}

const ROLLUP_MERGE = `ON CONFLICT (stream_id, bucket) DO UPDATE SET
  min = LEAST(sample_rollup_1m.min, EXCLUDED.min),
  max = GREATEST(sample_rollup_1m.max, EXCLUDED.max),
  sum = sample_rollup_1m.sum + EXCLUDED.sum,
  count = sample_rollup_1m.count + EXCLUDED.count`;

/**
 * Newest rollup minute this process wrote per stream. A flush whose every row is a later minute
 * of a stream written before (and appears once) cannot meet an existing row, so it is COPYed
 * straight into the table; anything else, and a unique violation after all (another writer,
 * e.g. `rollupPending`), takes the merging upsert. The upsert (staging, GROUP BY, ON CONFLICT)
 * measured ~3x the cost of the direct COPY.
 */
const newestRollupWritten = new Map<number, { written: number; batch: number; inBatch: number }>();
/** Numbers `rollupRowsAllNew` calls: an entry's `inBatch` is this call's newest row when `batch` matches. */
let rollupCheck = 0;

function rollupRowsAllNew(rows: RollupColumns): boolean {
  const check = ++rollupCheck;
  for (let k = 0; k < rows.rows; k++) {
    const e = newestRollupWritten.get(rows.streamIds[k]!);
    if (e === undefined) return false;
    const before = e.batch === check ? e.inBatch : e.written;
    const b = rows.bucketMs[k]!;
    if (b <= before) return false;
    e.batch = check;
    e.inBatch = b;
  }
  return true;
}

function noteRollupWritten(rows: RollupColumns): void {
  for (let k = 0; k < rows.rows; k++) {
    const id = rows.streamIds[k]!;
    const b = rows.bucketMs[k]!;
    const e = newestRollupWritten.get(id);
    if (e === undefined) newestRollupWritten.set(id, { written: b, batch: 0, inBatch: 0 });
    else if (b > e.written) e.written = b;
  }
}

/** Rollup rows as binary COPY columns (into `sample_rollup_1m` or its staging table). */
function rollupCopy(rows: RollupColumns): Buffer {
  return encodeBinaryCopy(rows.rows, [
    { type: "int4", data: rows.streamIds },
    { type: "timestamptz", data: rows.bucketMs },
    { type: "float8", data: rows.min },
    { type: "float8", data: rows.max },
    { type: "float8", data: rows.sum },
    { type: "int4", data: rows.count },
  ]);
}

/** Merges rows into existing ones (staging + GROUP BY + ON CONFLICT): the general path; also the scale-out runner's, in its score transaction. */
export async function mergeRollupRows(client: pg.PoolClient, rows: RollupColumns): Promise<void> {
  await client.query("CREATE TEMP TABLE IF NOT EXISTS tmp_rollup (stream_id int, bucket timestamptz, min float8, max float8, sum float8, count int) ON COMMIT DELETE ROWS");
  if (isEmbeddedUrl(databaseUrl())) {
    await client.query(
      `INSERT INTO tmp_rollup SELECT s, to_timestamp(b / 1000.0), mn, mx, sm, c
       FROM unnest($1::int[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::int[]) AS x(s, b, mn, mx, sm, c)`,
      [Array.from(rows.streamIds), Array.from(rows.bucketMs), Array.from(rows.min), Array.from(rows.max), Array.from(rows.sum), Array.from(rows.count)],
    );
  } else {
    await copyBinaryIn(client, "tmp_rollup", rollupCopy(rows));
  }
  await client.query(
    `INSERT INTO sample_rollup_1m (stream_id, bucket, min, max, sum, count)
     SELECT stream_id, bucket, min(min), max(max), sum(sum), sum(count)::int FROM tmp_rollup GROUP BY 1, 2 ORDER BY 1, 2
     ${ROLLUP_MERGE}`,
  );
}

/**
 * Adds rollup rows folded in memory (merging into existing rows) and moves the watermark to
 * `watermark`, in one transaction, so each sample is counted exactly once.
 */
export async function writeRollup(rows: RollupColumns, watermark: number): Promise<void> {
  const write = (direct: boolean) =>
    // derived data, like scores (rows and watermark are lost together)
    inDerivedTransaction(async (client) => {
      if (rows.rows && direct) await copyBinaryIn(client, "sample_rollup_1m (stream_id, bucket, min, max, sum, count)", rollupCopy(rows));
      else if (rows.rows) await mergeRollupRows(client, rows);
      await client.query(
        `INSERT INTO setting (key, value, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now() WHERE setting.value::bigint < EXCLUDED.value::bigint`,
        [ROLLUP_CURSOR_KEY, String(watermark)],
      );
    });
  const direct = !isEmbeddedUrl(databaseUrl()) && rows.rows > 0 && rollupRowsAllNew(rows);
  try {
    await write(direct);
  } catch (e) {
    if (!direct || !isUniqueViolation(e)) throw e;
    await write(false);
  }
  noteRollupWritten(rows);
}
