import type pg from "pg";
import { AppError } from "@/lib/errors/app-error";
import { summableSql } from "@/lib/ingest/sample-bounds";
import { chartBucketMs } from "@/lib/series/chart-buckets";
import { databaseUrl, isEmbeddedUrl, pool } from "../../db";
import { inTransaction } from "../transaction";
import type { CommittedBatch, NewSampleColumns, SampleColumns, SampleRows, SortedSamples } from "./columns";
import { NewestByStream } from "./newest-by-stream";
import { recordInOutbox } from "../outbox-repo";
import { fiveMinuteBuckets, fiveMinuteSpan } from "./rollup";
import { copyBinaryIn, copyBinaryOut, encodeBinaryCopy } from "./pg-binary-copy";
import { blocksAfter, packSampleRows, slotOf, slotsPresent, valsLiteral, type Occupied } from "./sample-blocks";
import { inStreamOrder } from "./stream-order";
import { ensureDaysOf } from "./time-partitions";

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
 * `committed` is what was written, in block-row order (the batch the worker is handed).
 * With `outboxOwner` (scale-out), the same transaction records the commit in the outbox
 * (`recordInOutbox`): it must be published to the sample log, by that owner or, if it dies
 * first, by another process.
 */
export async function insertSamplesReturning(
  c: SampleColumns,
  returning: boolean,
  shared = false,
  outboxOwner: string | null = null,
): Promise<{ result: InsertResult; newRows: { streamId: number; tsMs: number }[] | "all" | null; committed?: CommittedBatch }> {
  const received = c.tsMs.length;
  if (received === 0) return { result: { received, inserted: 0 }, newRows: returning ? [] : null };
  const embedded = isEmbeddedUrl(databaseUrl());
  const sorted = inStreamOrder({ streamIds: asInt32(c.streamIds), tsMs: asFloat64(c.tsMs), values: asFloat64(c.values) });
  const direct = !shared && allNewer(sorted);
  const packed = packSampleRows(sorted);
  await ensureDaysOf(sorted.tsMs);
  const committed = await inTransaction(async (client): Promise<CommittedBatch | undefined> => {
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
    return { firstSeq, rowStart: rows.rowStart, streamIds: rows.streamIds, tsMs: rows.tsMs, values: rows.values };
  });
  noteCommitted(sorted);
  const inserted = committed?.streamIds.length ?? 0;
  let newRows: { streamId: number; tsMs: number }[] | "all" | null = null;
  if (returning) {
    if (inserted === received) newRows = "all";
    else {
      newRows = [];
      for (let i = 0; i < inserted; i++) newRows.push({ streamId: committed!.streamIds[i]!, tsMs: committed!.tsMs[i]! });
    }
  }
  return { result: { received, inserted }, newRows, committed };
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
 * (min/max/mean per bucket so spikes survive; width `chartBucketMs`). Long ranges read the
 * 1-minute rollup, or its 5-minute tier for buckets of whole five minutes (`fiveMinuteBuckets`:
 * every width from five minutes up, e.g. the 7- and 30-day pages). Like the
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
  const bucketMs = chartBucketMs(toMs - fromMs, maxPoints);
  const t = (col: string) => `(extract(epoch FROM date_bin(make_interval(secs => $4 / 1000.0), ${col}, TIMESTAMPTZ '2000-01-01')) * 1000)::float8 AS t`;
  const perBucket = "sum(sum) / nullif(sum(count), 0) AS v, min(min) AS min, max(max) AS max";
  type Row = { t: number; v: number | null; min: number; max: number };
  let res: pg.QueryResult<Row>;
  if (fiveMinuteBuckets(bucketMs)) {
    // both tiers have the same columns: the whole five minutes inside the range from the tier,
    // the partial ones at its ends from their minutes (`fiveMinuteSpan`)
    const { headToMs, midFromMs, midToMs } = fiveMinuteSpan(fromMs, toMs);
    res = await q.query<Row>(
      `SELECT ${t("bucket")}, ${perBucket} FROM (
         SELECT bucket, min, max, sum, count FROM sample_rollup_5m
         WHERE stream_id = $1 AND bucket >= to_timestamp($6 / 1000.0) AND bucket < to_timestamp($7 / 1000.0)
         UNION ALL
         SELECT bucket, min, max, sum, count FROM sample_rollup_1m
         WHERE stream_id = $1 AND ((bucket >= to_timestamp($2 / 1000.0) AND bucket < to_timestamp($5 / 1000.0))
                                OR (bucket >= to_timestamp($7 / 1000.0) AND bucket < to_timestamp($3 / 1000.0)))
       ) r GROUP BY 1 ORDER BY 1`,
      [streamId, fromMs, toMs, bucketMs, headToMs, midFromMs, midToMs],
    );
  } else {
    const sql =
      bucketMs >= 60_000
        ? `SELECT ${t("bucket")}, ${perBucket}
           FROM sample_rollup_1m WHERE stream_id = $1 AND bucket >= to_timestamp($2 / 1000.0) AND bucket < to_timestamp($3 / 1000.0)
           GROUP BY 1 ORDER BY 1`
        : `SELECT ${t("ts")},
                  sum(value) FILTER (WHERE ${summableSql("value")}) / nullif(count(*) FILTER (WHERE ${summableSql("value")}), 0) AS v,
                  min(value) FILTER (WHERE ${summableSql("value")}) AS min, max(value) FILTER (WHERE ${summableSql("value")}) AS max
           FROM (${oneStream("ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0)")}) s
           GROUP BY 1 ORDER BY 1`;
    res = await q.query<Row>(sql, [streamId, fromMs, toMs, bucketMs]);
  }
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
