import type pg from "pg";
import { AppError } from "@/lib/errors/app-error";
import { summableSql } from "@/lib/ingest/sample-bounds";
import { databaseUrl, isEmbeddedUrl, pool } from "../db";
import { copyBinaryIn, copyBinaryOut, encodeBinaryCopy, type BinaryColumn } from "./pg-binary-copy";
import { inDerivedTransaction } from "./derived-writes";
import { NewestByStream } from "./newest-by-stream";
import { recordInOutbox } from "./outbox-repo";
import { packSampleRows, slotOf, slotsPresent, valsLiteral, type Occupied, type SampleRows, type SortedSamples } from "./sample-blocks";
import { inStreamOrder } from "./stream-order";
import { inTransaction, isUniqueViolation } from "./transaction";

/** Column-oriented batch of samples: the shape every ingest path produces. */
export interface SampleColumns {
  streamIds: Int32Array | number[];
  tsMs: Float64Array | number[];
  values: Float64Array | number[];
}

export interface InsertResult {
  received: number;
  inserted: number;
}

// Serialises ingest commits so that `sample_block.seq` order equals commit order; the worker's
// cursor (`seq > last`) can then never skip a row committed late by a slower transaction. It
// also makes the slow path's check for stored slots race-free.
const INGEST_LOCK = 0x0e11;
const INGEST_LOCK_WAIT_MS = 5_000;

/**
 * The 1-minute rollup is maintained off the commit path: the worker folds the samples it reads
 * in memory (`writeRollup`), and `rollupPending()` folds in SQL what the worker will not read;
 * both advance one watermark in `setting` (every sample with seq ≤ it is folded). Doing it
 * inside every ingest transaction cost ~2/3 of the commit time (one upsert per sample).
 */
const ROLLUP_CURSOR_KEY = "rollup_seq";

/**
 * Newest committed timestamp per stream that this process knows of. A batch whose every sample
 * is newer than it cannot meet a stored sample (except one written by another process), so
 * its block rows are COPYed without first reading which slots of their (block, ts) are taken.
 */
const newestCommitted = new NewestByStream();

function allNewer(c: SortedSamples): boolean {
  for (let i = 0; i < c.tsMs.length; i++) {
    if (!(c.tsMs[i]! > newestCommitted.get(c.streamIds[i]!))) return false; // also when unknown (NaN)
  }
  return true;
}

function noteCommitted(c: SortedSamples): void {
  for (let i = 0; i < c.tsMs.length; i++) newestCommitted.note(c.streamIds[i]!, c.tsMs[i]!);
}

const asInt32 = (a: Int32Array | number[]) => (a instanceof Int32Array ? a : Int32Array.from(a));
const asFloat64 = (a: Float64Array | number[]) => (a instanceof Float64Array ? a : Float64Array.from(a));

/** Slots already stored for the (block, ts) of `rows`, under the ingest lock. */
async function occupiedSlots(client: pg.PoolClient, rows: SampleRows): Promise<Occupied> {
  const res = await client.query<{ i: string; vals: (number | null)[] }>(
    `SELECT u.i, b.vals FROM unnest($1::int[], $2::float8[]) WITH ORDINALITY AS u(block, t, i)
     JOIN sample_block b ON b.block = u.block AND b.ts = to_timestamp(u.t / 1000.0)`,
    [Array.from(rows.block), Array.from(rows.rowTs)],
  );
  const taken = new Map<number, Map<number, number>>();
  for (const r of res.rows) {
    const i = Number(r.i) - 1;
    const b = rows.block[i]!;
    const t = rows.rowTs[i]!;
    let byTs = taken.get(b);
    if (!byTs) taken.set(b, (byTs = new Map()));
    byTs.set(t, (byTs.get(t) ?? 0) | slotsPresent(r.vals));
  }
  return (block, tsMs) => taken.get(block)?.get(tsMs) ?? 0;
}

async function writeRows(client: pg.PoolClient, rows: SampleRows, firstSeq: number, embedded: boolean): Promise<void> {
  const seq = new Float64Array(rows.rows);
  for (let r = 0; r < rows.rows; r++) seq[r] = firstSeq + r;
  if (embedded) {
    // PGlite's socket cannot carry COPY; one unnest() statement is the next best bulk path
    await client.query(
      `INSERT INTO sample_block (seq, block, ts, vals)
       SELECT q, b, to_timestamp(t / 1000.0), v::float8[] FROM unnest($1::int8[], $2::int[], $3::float8[], $4::text[]) AS u(q, b, t, v)`,
      [Array.from(seq), Array.from(rows.block), Array.from(rows.rowTs), Array.from({ length: rows.rows }, (_, r) => valsLiteral(rows, r))],
    );
    return;
  }
  const pos = new Uint8Array(rows.streamIds.length);
  for (let i = 0; i < pos.length; i++) pos[i] = slotOf(rows.streamIds[i]!);
  await copyBinaryIn(
    client,
    "sample_block (seq, block, ts, vals)",
    encodeBinaryCopy(rows.rows, [
      { type: "int8", data: seq },
      { type: "int4", data: rows.block },
      { type: "timestamptz", data: rows.rowTs },
      { type: "float8array", data: rows.values, pos, rowStart: rows.rowStart },
    ]),
  );
}

/** What a commit stored: its block rows (seq firstSeq + r for row r), for the worker's hand-off. */
export interface CommittedRows {
  firstSeq: number;
  rows: SampleRows;
}

/**
 * Commits samples in one transaction; when this resolves the samples are durable. Re-sent
 * samples are idempotent: a sample whose (stream, ts) is stored already is left out (first
 * write wins), and so is the second of a (stream, ts) given twice. A batch that may overlap
 * stored samples first reads which slots of its (block, ts) rows are taken, under the ingest
 * lock; a batch newer than everything this process committed for its streams skips that read,
 * unless `shared` says another process may write the same streams (a CSV import from the CLI
 * while the web app imports the same file): two processes each skipping the read could both
 * store a (stream, ts). Readers would take the first, but the worker would see both.
 * With `returning`, also says which (stream, ts) were new (`"all"` when every sample was) —
 * used by group commit to tell each merged request how many of its samples were new.
 * `committed` is what was written, in block-row order (see `lib/ingest/committed-batch.ts`).
 * With `outboxOwner` (scale-out), the same transaction records the commit in the outbox
 * (`recordInOutbox`): it must be published to the sample log, by that owner or, if it dies
 * first, by another process.
 */
export async function insertSamplesReturning(
  c: SampleColumns,
  returning: boolean,
  shared = false,
  outboxOwner: string | null = null,
): Promise<{ result: InsertResult; newRows: { streamId: number; tsMs: number }[] | "all" | null; committed?: CommittedRows }> {
  const received = c.tsMs.length;
  if (received === 0) return { result: { received, inserted: 0 }, newRows: returning ? [] : null };
  const embedded = isEmbeddedUrl(databaseUrl());
  const sorted = inStreamOrder({ streamIds: asInt32(c.streamIds), tsMs: asFloat64(c.tsMs), values: asFloat64(c.values) });
  const direct = !shared && allNewer(sorted);
  const packed = packSampleRows(sorted);
  const committed = await inTransaction(async (client): Promise<CommittedRows | undefined> => {
    let rows = packed;
    // bounded wait: a writer frozen while holding the lock (a SIGSTOPped worker committing its
    // host metrics) must not hang every ingest request; the sender is told to retry instead
    await client.query(`SET LOCAL lock_timeout = '${INGEST_LOCK_WAIT_MS}ms'`);
    try {
      await client.query("SELECT pg_advisory_xact_lock($1)", [INGEST_LOCK]);
    } catch (e) {
      if ((e as { code?: string }).code !== "55P03") throw e;
      throw new AppError("TOO_MANY_REQUESTS", `Omen is busy: another commit has held the ingest lock for over ${INGEST_LOCK_WAIT_MS / 1000} s. Retry after 5 s; nothing from this request was stored.`, {
        reason: "ingest_lock",
        retryAfterSeconds: 5,
      });
    }
    await client.query("SET LOCAL lock_timeout = 0");
    if (!direct) rows = packSampleRows(sorted, await occupiedSlots(client, rows));
    if (rows.rows === 0) return undefined;
    // the batch's seqs in one call: every writer holds INGEST_LOCK while taking them, so the
    // range is contiguous and nothing else draws from it
    const res = await client.query<{ last: string }>("SELECT setval('sample_block_seq_seq', nextval('sample_block_seq_seq') + $1 - 1) AS last", [rows.rows]);
    const firstSeq = Number(res.rows[0]!.last) - rows.rows + 1;
    await writeRows(client, rows, firstSeq, embedded);
    if (outboxOwner !== null) await recordInOutbox(client, { firstSeq, lastSeq: firstSeq + rows.rows - 1 }, outboxOwner);
    return { firstSeq, rows };
  });
  noteCommitted(sorted);
  const inserted = committed?.rows.streamIds.length ?? 0;
  let newRows: { streamId: number; tsMs: number }[] | "all" | null = null;
  if (returning) {
    if (inserted === received) newRows = "all";
    else {
      newRows = [];
      const r = committed?.rows;
      for (let i = 0; i < inserted; i++) newRows.push({ streamId: r!.streamIds[i]!, tsMs: r!.tsMs[i]! });
    }
  }
  return { result: { received, inserted }, newRows, committed };
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
      await client.query("DELETE FROM sample_rollup_1m r USING tmp_rollup_touched t WHERE r.stream_id = t.stream_id AND r.bucket = t.bucket");
      await client.query(
        `INSERT INTO sample_rollup_1m (stream_id, bucket, min, max, sum, count)
         SELECT t.stream_id, t.bucket, min(v.value), max(v.value), sum(v.value), count(*)
         FROM tmp_rollup_touched t
         JOIN sample_block b ON b.block = t.stream_id / 32 AND b.ts >= t.bucket AND b.ts < t.bucket + interval '1 minute' AND b.seq <= $1
         CROSS JOIN LATERAL (SELECT b.vals[t.stream_id % 32 + 1] AS value) v
         WHERE v.value IS NOT NULL AND ${summableSql("v.value")}
         GROUP BY 1, 2`,
        [upToSeq],
      );
    }
    await client.query("UPDATE setting SET value = $2, updated_at = now() WHERE key = $1", [ROLLUP_CURSOR_KEY, String(upToSeq)]);
    return { watermark: upToSeq, minutes: touched.rowCount ?? 0 };
  });
}

/** One (stream, minute) row of sample_rollup_1m. */
export interface RollupRow {
  streamId: number;
  bucketMs: number;
  min: number;
  max: number;
  sum: number;
  count: number;
}

/** Rollup rows column-wise (what the worker's rollup buffer hands out). */
export interface RollupColumns {
  rows: number;
  streamIds: Int32Array;
  bucketMs: Float64Array;
  min: Float64Array;
  max: Float64Array;
  sum: Float64Array;
  count: Int32Array;
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

export interface NewSampleColumns {
  rows: number;
  /** seq of the last row (the reader's next cursor); 0 when there are no rows */
  lastSeq: number;
  seq: Float64Array;
  streamIds: Int32Array;
  tsMs: Float64Array;
  values: Float64Array;
}

/**
 * Block rows after seq `after` (up to `upTo`), in seq order: whole rows holding at most `limit`
 * samples (at least one row). Arguments are SQL expressions (parameters or integers).
 */
function blocksAfter(after: string, upTo: string, limit: string): string {
  return `SELECT seq, block, ts, vals FROM (
      SELECT seq, block, ts, vals, sum(n) OVER (ORDER BY seq) AS upto, row_number() OVER (ORDER BY seq) AS i
      FROM (SELECT seq, block, ts, vals, cardinality(array_remove(vals, NULL)) AS n
            FROM sample_block WHERE seq > ${after} AND seq <= ${upTo} ORDER BY seq LIMIT ${limit}) r
    ) w WHERE upto <= ${limit} OR i = 1`;
}

/**
 * Samples committed after `cursor` (and up to `upToSeq`), in commit order: whole block rows,
 * about `limit` samples; every sample of a row carries the row's seq. On PostgreSQL they
 * arrive by binary COPY straight into typed arrays (the worker reads what the hand-off did not
 * bring); PGlite gets a plain query.
 */
export async function readSamplesAfter(cursor: number, limit: number, upToSeq = Number.MAX_SAFE_INTEGER): Promise<NewSampleColumns> {
  const after = Math.floor(cursor);
  const n = Math.floor(limit);
  const upTo = Math.floor(upToSeq);
  if (![after, n, upTo].every(Number.isSafeInteger)) throw new Error("readSamplesAfter: cursor, limit and upToSeq must be integers");
  const unpack = (blocks: string, ts: string) =>
    `SELECT b.seq, (b.block * 32 + u.k - 1)::int AS stream_id, ${ts}, u.value
     FROM (${blocks}) b CROSS JOIN LATERAL unnest(b.vals) WITH ORDINALITY AS u(value, k)
     WHERE u.value IS NOT NULL ORDER BY b.seq, u.k`;
  if (!isEmbeddedUrl(databaseUrl())) {
    const client = await pool().connect();
    try {
      const select = unpack(blocksAfter(String(after), String(upTo), String(n)), "b.ts");
      const { rows, cols } = await copyBinaryOut(client, select, ["int8", "int4", "timestamptz", "float8"] as const);
      return { rows, lastSeq: rows ? cols[0][rows - 1]! : 0, seq: cols[0], streamIds: cols[1], tsMs: cols[2], values: cols[3] };
    } finally {
      client.release();
    }
  }
  const res = await pool().query<{ seq: number; stream_id: number; t: number; value: number }>(
    unpack(blocksAfter("$1", "$3", "$2"), "(extract(epoch FROM b.ts) * 1000)::float8 AS t"),
    [after, n, upTo],
  );
  const rows = res.rows.length;
  const out: NewSampleColumns = { rows, lastSeq: rows ? Number(res.rows[rows - 1]!.seq) : 0, seq: new Float64Array(rows), streamIds: new Int32Array(rows), tsMs: new Float64Array(rows), values: new Float64Array(rows) };
  res.rows.forEach((r, i) => {
    out.seq[i] = Number(r.seq);
    out.streamIds[i] = r.stream_id;
    out.tsMs[i] = r.t;
    out.values[i] = r.value;
  });
  return out;
}

/**
 * The newest `seq` handed out (the sequence's position, committed or not): O(1), unlike
 * max(seq) which scans the BRIN-indexed table. Used for back-pressure estimates.
 */
export async function sequenceHead(): Promise<number> {
  const res = await pool().query<{ v: number | null }>(
    "SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS v FROM sample_block_seq_seq",
  );
  return Number(res.rows[0]?.v ?? 0);
}

export interface SeriesPoint {
  t: number;
  v: number | null;
  min?: number;
  max?: number;
}

/**
 * One stream over a time range, downsampled on the server to at most ~maxPoints buckets
 * (min/max/mean per bucket so spikes survive). Long ranges read the 1-minute rollup. Like the
 * rollup, buckets cover summable values only (`isSummable`: NaN, ±Inf and |v| > 2^960 are left
 * out), so no sum can overflow; `avg()` is not used because PostgreSQL's float8 avg also sums
 * squares, which overflow from |v| ≈ 1e154. A raw bucket holding only such values stays in the
 * series with v = null, so a chart draws a gap there instead of joining its neighbours.
 */
export async function readSeries(
  streamId: number,
  fromMs: number,
  toMs: number,
  maxPoints = 2000,
  /** a transaction's client (incident grouping reads series while it holds its lock) */
  q: Pick<pg.PoolClient, "query"> = pool(),
): Promise<SeriesPoint[]> {
  const spanMs = Math.max(1, toMs - fromMs);
  const bucketMs = Math.max(1000, Math.ceil(spanMs / maxPoints / 1000) * 1000);
  const useRollup = bucketMs >= 60_000;
  const sql = useRollup
    ? `SELECT (extract(epoch FROM date_bin(make_interval(secs => $4 / 1000.0), bucket, TIMESTAMPTZ '2000-01-01')) * 1000)::float8 AS t,
              sum(sum) / nullif(sum(count), 0) AS v, min(min) AS min, max(max) AS max
       FROM sample_rollup_1m WHERE stream_id = $1 AND bucket >= to_timestamp($2 / 1000.0) AND bucket < to_timestamp($3 / 1000.0)
       GROUP BY 1 ORDER BY 1`
    : `SELECT (extract(epoch FROM date_bin(make_interval(secs => $4 / 1000.0), ts, TIMESTAMPTZ '2000-01-01')) * 1000)::float8 AS t,
              sum(value) FILTER (WHERE ${summableSql("value")}) / nullif(count(*) FILTER (WHERE ${summableSql("value")}), 0) AS v,
              min(value) FILTER (WHERE ${summableSql("value")}) AS min, max(value) FILTER (WHERE ${summableSql("value")}) AS max
       FROM (${oneStream("ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0)")}) s
       GROUP BY 1 ORDER BY 1`;
  const res = await q.query<{ t: number; v: number | null; min: number; max: number }>(sql, [
    streamId,
    fromMs,
    toMs,
    bucketMs,
  ]);
  return res.rows.map((r) => ({ t: r.t, v: r.v, min: r.min, max: r.max }));
}

/**
 * One stream's samples (ts, value) from block rows, as SQL: `$1` is the stream id; `where`
 * narrows by `ts`. Each (stream, ts) once, from its first row (a second can only come from
 * another process writing the same stream at the same moment).
 */
function oneStream(where: string): string {
  return `SELECT DISTINCT ON (ts) ts, vals[$1 % 32 + 1] AS value FROM sample_block
    WHERE block = $1 / 32 AND ${where} AND vals[$1 % 32 + 1] IS NOT NULL ORDER BY ts, seq`;
}

/** The value of stream `streamId` at `tsMs`, or null. */
export async function sampleAt(streamId: number, tsMs: number): Promise<number | null> {
  const res = await pool().query<{ value: number }>(`${oneStream("ts = to_timestamp($2 / 1000.0)")} LIMIT 1`, [streamId, tsMs]);
  return res.rows[0]?.value ?? null;
}

export async function countSamples(): Promise<number> {
  const res = await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM sample_block b, unnest(b.vals) v WHERE v IS NOT NULL");
  return res.rows[0]?.n ?? 0;
}
