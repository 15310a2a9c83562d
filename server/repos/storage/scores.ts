import type pg from "pg";
import { chartBucketMs } from "@/lib/series/chart-buckets";
import { databaseUrl, isEmbeddedUrl, pool } from "../../db";
import { inDerivedTransaction } from "./derived-writes";
import { copyBinaryIn, encodeBinaryCopy, type BinaryColumn } from "./pg-binary-copy";
import { BLOCK_BYTES, BLOCK_SLOTS, BlockRowBuilder, blockOf, packScoreBlocks, readSlot, slotBit, slotOf, SLOT_BYTES } from "./score-blocks";
import type { BlockRows, ScoreColumns, ScoreMinuteRows } from "./columns";
import { ScoreMinuteFold } from "./score-minute-fold";
import { isUniqueViolation } from "../transaction";
import { fiveMinuteBuckets, fiveMinuteSpan } from "./rollup";

/**
 * Block rows go in by binary COPY on PostgreSQL. There is no unique key to collide with: a
 * re-score appends rows, and readers take the newest `rev` of a (block, ts) per slot. PGlite's
 * socket cannot carry COPY, so it gets one INSERT of unnest()ed columns (the 1 kB blocks
 * travel as one bytea and are cut apart by position). The statement is built before anything
 * awaits (`rows` views a reused builder), so a failed write can be run again as it was.
 */
export function blocksWriter(rows: BlockRows): ((client: pg.PoolClient) => Promise<unknown>) | null {
  if (rows.n === 0) return null;
  if (isEmbeddedUrl(databaseUrl())) {
    const params = [Array.from(rows.block), Array.from(rows.tsMs), Array.from(rows.mask), Buffer.from(rows.data)];
    return (client) =>
      client.query(
        `INSERT INTO score_block (block, ts, mask, data)
         SELECT b, to_timestamp(t / 1000.0), m, substring($4::bytea FROM ((o - 1) * ${BLOCK_BYTES} + 1)::int FOR ${BLOCK_BYTES})
         FROM unnest($1::int[], $2::float8[], $3::int[]) WITH ORDINALITY AS x(b, t, m, o)`,
        params,
      );
  }
  const data = Array.from({ length: rows.n }, (_, r) => rows.data.subarray(r * BLOCK_BYTES, (r + 1) * BLOCK_BYTES));
  const payload = encodeBinaryCopy(rows.n, [
    { type: "int4", data: rows.block },
    { type: "timestamptz", data: rows.tsMs },
    { type: "int4", data: rows.mask },
    { type: "bytea", data },
  ]);
  return (client) => copyBinaryIn(client, "score_block (block, ts, mask, data)", payload);
}

/**
 * The worker's scoring progress: every sample with seq at or below it whose step was scored has
 * its score row stored. Written in the transaction that stores the score rows, so that after a
 * crash the worker knows which re-scored rows (of a replay from an older snapshot) are stored
 * already (`scoredAlready`) and writes each score once.
 */
export const SCORED_SEQ_KEY = "worker_scored_seq";

export async function scoredSeq(): Promise<number> {
  const res = await pool().query<{ value: string }>("SELECT value FROM setting WHERE key = $1", [SCORED_SEQ_KEY]);
  return Number(res.rows[0]?.value ?? 0);
}

async function noteScoredSeq(client: pg.PoolClient, seq: number): Promise<void> {
  await client.query(
    `INSERT INTO setting (key, value, updated_at) VALUES ($1, $2, now())
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now() WHERE setting.value::bigint < EXCLUDED.value::bigint`,
    [SCORED_SEQ_KEY, String(Math.floor(seq))],
  );
}

/**
 * For score rows about to be written again (a replay after a crash): whether each (stream, ts)
 * has a stored score, and whether its one-minute row counts it. A minute row counts the scores
 * stored before it was last written (block rev at or below its `rev_hi`): a score stored later
 * sat in a minute still open in the fold when the worker stopped, and is folded in again.
 */
export async function scoredAlready(streamIds: ArrayLike<number>, tsMs: ArrayLike<number>): Promise<{ scored: Uint8Array; minuteWritten: Uint8Array }> {
  const n = tsMs.length;
  const scored = new Uint8Array(n);
  const minuteWritten = new Uint8Array(n);
  if (n === 0) return { scored, minuteWritten };
  const res = await pool().query<{ i: string; scored: boolean; minute: boolean }>(
    `SELECT u.i, s.rev IS NOT NULL AS scored,
       s.rev IS NOT NULL AND EXISTS (SELECT 1 FROM ${MINUTE_TABLE} r WHERE r.stream_id = u.id AND r.bucket = to_timestamp(floor(u.t / 60000.0) * 60)
                                       AND (r.rev_hi IS NULL OR r.rev_hi >= s.rev)) AS minute
     FROM unnest($1::int[], $2::float8[]) WITH ORDINALITY AS u(id, t, i)
     CROSS JOIN LATERAL (SELECT min(b.rev) AS rev FROM score_block b
                         WHERE b.block = u.id / ${BLOCK_SLOTS} AND b.ts = to_timestamp(u.t / 1000.0) AND b.mask & (1 << (u.id % ${BLOCK_SLOTS})) <> 0) s`,
    [Array.from(streamIds), Array.from(tsMs)],
  );
  for (const r of res.rows) {
    const i = Number(r.i) - 1;
    scored[i] = r.scored ? 1 : 0;
    minuteWritten[i] = r.minute ? 1 : 0;
  }
  return { scored, minuteWritten };
}

const MINUTE_TABLE = "score_rollup_1m";
const MINUTE_COLUMNS = "(stream_id, bucket, score, confidence, expected, lower, upper, n, rev_hi)";
/** Merges a minute written before (after a restart): extremes of both, means weighted by n. */
const MINUTE_MERGE = `ON CONFLICT (stream_id, bucket) DO UPDATE SET
  score = CASE WHEN r.score = 'NaN' THEN EXCLUDED.score WHEN EXCLUDED.score = 'NaN' THEN r.score ELSE GREATEST(r.score, EXCLUDED.score) END,
  confidence = (r.confidence * r.n + EXCLUDED.confidence * EXCLUDED.n) / (r.n + EXCLUDED.n),
  expected = CASE WHEN r.expected IS NULL THEN EXCLUDED.expected WHEN EXCLUDED.expected IS NULL THEN r.expected
                  ELSE (r.expected * r.n + EXCLUDED.expected * EXCLUDED.n) / (r.n + EXCLUDED.n) END,
  lower = LEAST(r.lower, EXCLUDED.lower),
  upper = GREATEST(r.upper, EXCLUDED.upper),
  n = r.n + EXCLUDED.n,
  rev_hi = GREATEST(r.rev_hi, EXCLUDED.rev_hi)`;

const minuteCopyColumns = (m: ScoreMinuteRows, revHi: number): BinaryColumn[] => [
  { type: "int4", data: m.streamIds },
  { type: "timestamptz", data: m.bucketMs },
  { type: "float8", data: m.score },
  { type: "float8", data: m.confidence },
  { type: "float8null", data: m.expected },
  { type: "float8null", data: m.lower },
  { type: "float8null", data: m.upper },
  { type: "int4", data: m.n },
  { type: "int8", data: new Array<number>(m.n.length).fill(revHi) },
];

/**
 * The newest score_block rev this transaction sees: every score stored so far, its own included,
 * was folded into the minutes it writes (see `scoredAlready`). The worker writes its scores one
 * transaction at a time, so no score of its streams is stored later with a lower rev.
 */
async function newestScoreRev(client: pg.PoolClient): Promise<number> {
  const res = await client.query<{ rev: string | null }>("SELECT max(rev) AS rev FROM score_block");
  return Number(res.rows[0]?.rev ?? 0);
}

async function mergeMinutes(client: pg.PoolClient, m: ScoreMinuteRows, revHi: number): Promise<void> {
  const nul = (xs: number[]) => xs.map((x) => (Number.isNaN(x) ? null : x));
  await client.query(
    `INSERT INTO ${MINUTE_TABLE} AS r ${MINUTE_COLUMNS}
     SELECT s, to_timestamp(b / 1000.0), sc, cf, e, lo, up, n, $9::bigint
     FROM unnest($1::int[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::int[]) AS x(s, b, sc, cf, e, lo, up, n)
     ${MINUTE_MERGE}`,
    [m.streamIds, m.bucketMs, m.score, m.confidence, nul(m.expected), nul(m.lower), nul(m.upper), m.n, revHi],
  );
}

/** Splits rows so that no (stream, minute) occurs twice in one part (ON CONFLICT needs that). */
function distinctParts(m: ScoreMinuteRows): ScoreMinuteRows[] {
  const parts: ScoreMinuteRows[] = [];
  const seen: Set<string>[] = [];
  for (let i = 0; i < m.streamIds.length; i++) {
    const key = `${m.streamIds[i]}:${m.bucketMs[i]}`;
    let k = 0;
    while (seen[k]?.has(key)) k++;
    if (!seen[k]) {
      seen[k] = new Set();
      parts[k] = { streamIds: [], bucketMs: [], score: [], confidence: [], expected: [], lower: [], upper: [], n: [] };
    }
    seen[k]!.add(key);
    const p = parts[k]!;
    p.streamIds.push(m.streamIds[i]!);
    p.bucketMs.push(m.bucketMs[i]!);
    p.score.push(m.score[i]!);
    p.confidence.push(m.confidence[i]!);
    p.expected.push(m.expected[i]!);
    p.lower.push(m.lower[i]!);
    p.upper.push(m.upper[i]!);
    p.n.push(m.n[i]!);
  }
  return parts;
}

/**
 * One-minute rows: straight COPY (a minute is normally emitted once), the merging upsert when
 * one exists already (a restart; tried after a savepoint) and always on PGlite.
 */
export async function writeMinutes(client: pg.PoolClient, m: ScoreMinuteRows): Promise<void> {
  if (m.streamIds.length === 0) return;
  const revHi = await newestScoreRev(client);
  if (!isEmbeddedUrl(databaseUrl())) {
    await client.query("SAVEPOINT minutes");
    try {
      await copyBinaryIn(client, `${MINUTE_TABLE} ${MINUTE_COLUMNS}`, encodeBinaryCopy(m.streamIds.length, minuteCopyColumns(m, revHi)));
      await client.query("RELEASE SAVEPOINT minutes");
      return;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      await client.query("ROLLBACK TO SAVEPOINT minutes");
    }
  }
  for (const part of distinctParts(m)) await mergeMinutes(client, part, revHi);
}

/**
 * Minutes in progress of `insertScores` (seeding, tests). The worker's pipeline keeps its own
 * fold: a fold lives and dies with the scoring run that filled it, so a pipeline started again
 * after a crash begins empty, as a new process would, instead of emitting minutes of the run
 * before it, whose scores its replay counts again.
 */
const defaultMinutes = new ScoreMinuteFold();
/** Reused by every batch: `blocksWriter` encodes (or copies) the rows before it returns. */
const blockRows = new BlockRowBuilder();

/** A batch of score rows ready to be written; `run` may be called again after a failure. */
export interface PreparedScores {
  rows: number;
  run(): Promise<void>;
}

/**
 * Prepares a batch of scores (re-scoring the same (stream, ts) later supersedes it), the
 * one-minute rows that the batch completes, and (with `scoredSeq`) the worker's progress, to be
 * written in one transaction. The minutes are folded here, once, however often `run` is retried.
 * `foldOnly` rows (stored already, replayed after a crash) are folded into their minutes but not
 * written again.
 */
export function prepareScores(c: ScoreColumns, opts: { scoredSeq?: number; foldOnly?: ScoreColumns; nowMs?: number; minutes?: ScoreMinuteFold } = {}): PreparedScores {
  const now = opts.nowMs ?? Date.now();
  const minutes = opts.minutes ?? defaultMinutes;
  const blocks = c.tsMs.length ? blocksWriter(packScoreBlocks(c, blockRows)) : null;
  const m = opts.foldOnly && opts.foldOnly.tsMs.length ? concatMinutes(minutes.add(opts.foldOnly, now), minutes.add(c, now)) : minutes.add(c, now);
  const seq = opts.scoredSeq;
  return {
    rows: c.tsMs.length,
    run: () =>
      inDerivedTransaction(async (client) => {
        if (blocks) await blocks(client);
        await writeMinutes(client, m);
        if (seq !== undefined) await noteScoredSeq(client, seq);
      }),
  };
}

function concatMinutes(a: ScoreMinuteRows, b: ScoreMinuteRows): ScoreMinuteRows {
  return {
    streamIds: [...a.streamIds, ...b.streamIds],
    bucketMs: [...a.bucketMs, ...b.bucketMs],
    score: [...a.score, ...b.score],
    confidence: [...a.confidence, ...b.confidence],
    expected: [...a.expected, ...b.expected],
    lower: [...a.lower, ...b.lower],
    upper: [...a.upper, ...b.upper],
    n: [...a.n, ...b.n],
  };
}

/** Writes a batch of scores and the one-minute rows that the batch completes. */
export async function insertScores(c: ScoreColumns): Promise<void> {
  if (c.tsMs.length === 0) return;
  await prepareScores(c).run();
}

/** Writes the one-minute rows still in progress (of `insertScores`, or of a pipeline's fold when it stops). */
export async function flushScoreMinutes(minutes: ScoreMinuteFold = defaultMinutes): Promise<void> {
  const m = minutes.flushAll();
  if (m.streamIds.length) await inDerivedTransaction((client) => writeMinutes(client, m));
}

export interface ScorePoint {
  t: number;
  score: number;
  confidence: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
}

/** One stream's slot of every block row in [from, to), oldest first, newest rev last per time. */
async function readSlots(streamId: number, fromMs: number, toMs: number): Promise<{ t: number; d: Buffer }[]> {
  const res = await pool().query<{ t: number; d: Buffer }>(
    `SELECT (extract(epoch FROM ts) * 1000)::float8 AS t, substring(data FROM $4 FOR ${SLOT_BYTES}) AS d
     FROM score_block
     WHERE block = $1 AND ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0) AND mask & $5 <> 0
     ORDER BY ts, rev`,
    [blockOf(streamId), fromMs, toMs, slotOf(streamId) * SLOT_BYTES + 1, slotBit(slotOf(streamId))],
  );
  return res.rows;
}

/** Scores at their own timestamps; a re-score (a later rev at the same time) replaces the earlier. */
async function rawScores(streamId: number, fromMs: number, toMs: number): Promise<ScorePoint[]> {
  const out: ScorePoint[] = [];
  for (const r of await readSlots(streamId, fromMs, toMs)) {
    const p = { t: r.t, ...readSlot(r.d) };
    if (out.length && out[out.length - 1]!.t === r.t) out[out.length - 1] = p;
    else out.push(p);
  }
  return out;
}

/** PostgreSQL's date_bin origin, so buckets line up with the value series' buckets. */
const BIN_ORIGIN_MS = Date.UTC(2000, 0, 1);
const nanMax = (a: number, b: number) => (Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.max(a, b));

/**
 * Max score per bucket (peaks survive), mean confidence and expected, min lower, max upper; a
 * bucket whose every score is NaN keeps NaN.
 */
function downsample(points: ScorePoint[], bucketMs: number): ScorePoint[] {
  const out: ScorePoint[] = [];
  let cur: ScorePoint | null = null;
  let n = 0;
  let nExp = 0;
  let sumExp = 0;
  const close = () => {
    if (cur === null) return;
    cur.confidence /= n;
    cur.expected = nExp ? sumExp / nExp : null;
    out.push(cur);
  };
  for (const p of points) {
    const t = BIN_ORIGIN_MS + Math.floor((p.t - BIN_ORIGIN_MS) / bucketMs) * bucketMs;
    if (cur === null || cur.t !== t) {
      close();
      cur = { t, score: p.score, confidence: 0, expected: null, lower: p.lower, upper: p.upper };
      n = nExp = sumExp = 0;
    } else {
      cur.score = nanMax(cur.score, p.score);
      if (p.lower !== null) cur.lower = cur.lower === null ? p.lower : Math.min(cur.lower, p.lower);
      if (p.upper !== null) cur.upper = cur.upper === null ? p.upper : Math.max(cur.upper, p.upper);
    }
    cur.confidence += p.confidence;
    n++;
    if (p.expected !== null) {
      sumExp += p.expected;
      nExp++;
    }
  }
  close();
  return out;
}

/**
 * Buckets at least this wide read the one-minute rows: a 24-hour range at 2000 points asks for
 * 44-s buckets, and minute points are close enough to draw it (ranges of 22 hours or more).
 */
const MINUTE_ROWS_FROM_MS = 40_000;

/**
 * Scores of one stream over a range, downsampled to max score per bucket (width
 * `chartBucketMs`). Wide buckets read the one-minute rows (the minute in progress is not there
 * yet), or their five-minute tier when the buckets are whole five minutes (`fiveMinuteBuckets`:
 * every width from five minutes up), narrow ones the score blocks.
 */
export async function readScores(streamId: number, fromMs: number, toMs: number, maxPoints = 2000): Promise<ScorePoint[]> {
  const bucketMs = chartBucketMs(toMs - fromMs, maxPoints);
  if (bucketMs < MINUTE_ROWS_FROM_MS) return downsample(await rawScores(streamId, fromMs, toMs), bucketMs);
  if (fiveMinuteBuckets(bucketMs)) {
    // the five-minute rows keep sums: the same means as the minute rows give below; the partial
    // five minutes at the range's ends come from their minutes, as sums too (`fiveMinuteSpan`)
    const { headToMs, midFromMs, midToMs } = fiveMinuteSpan(fromMs, toMs);
    const res = await pool().query<ScorePoint>(
      `SELECT (extract(epoch FROM date_bin(make_interval(secs => $4 / 1000.0), bucket, TIMESTAMPTZ '2000-01-01')) * 1000)::float8 AS t,
              coalesce(max(score) FILTER (WHERE score <> 'NaN'), 'NaN') AS score, sum(confidence_sum) / sum(n) AS confidence,
              sum(expected_sum) / nullif(sum(expected_n), 0) AS expected, min(lower) AS lower, max(upper) AS upper
       FROM (
         SELECT bucket, score, confidence_sum, expected_sum, expected_n, lower, upper, n FROM score_rollup_5m
         WHERE stream_id = $1 AND bucket >= to_timestamp($6 / 1000.0) AND bucket < to_timestamp($7 / 1000.0)
         UNION ALL
         SELECT bucket, score, confidence * n, coalesce(expected * n, 0), CASE WHEN expected IS NULL THEN 0 ELSE n END, lower, upper, n FROM score_rollup_1m
         WHERE stream_id = $1 AND ((bucket >= to_timestamp($2 / 1000.0) AND bucket < to_timestamp($5 / 1000.0))
                                OR (bucket >= to_timestamp($7 / 1000.0) AND bucket < to_timestamp($3 / 1000.0)))
       ) r GROUP BY 1 ORDER BY 1`,
      [streamId, fromMs, toMs, bucketMs, headToMs, midFromMs, midToMs],
    );
    return res.rows;
  }
  const res = await pool().query<ScorePoint>(
    `SELECT (extract(epoch FROM date_bin(make_interval(secs => $4 / 1000.0), bucket, TIMESTAMPTZ '2000-01-01')) * 1000)::float8 AS t,
            coalesce(max(score) FILTER (WHERE score <> 'NaN'), 'NaN') AS score, sum(confidence * n) / sum(n) AS confidence,
            sum(expected * n) / nullif(sum(n) FILTER (WHERE expected IS NOT NULL), 0) AS expected, min(lower) AS lower, max(upper) AS upper
     FROM score_rollup_1m WHERE stream_id = $1 AND bucket >= to_timestamp($2 / 1000.0) AND bucket < to_timestamp($3 / 1000.0)
     GROUP BY 1 ORDER BY 1`,
    [streamId, fromMs, toMs, Math.max(60_000, bucketMs)],
  );
  return res.rows;
}

/** The highest score of a stream in [from, to] (the earliest on ties), or null. */
export async function peakScore(streamId: number, fromMs: number, toMs: number | null): Promise<ScorePoint | null> {
  let best: ScorePoint | null = null;
  for (const p of await rawScores(streamId, fromMs, toMs === null ? 8.64e15 : toMs + 1)) if (!Number.isNaN(p.score) && (best === null || p.score > best.score)) best = p;
  return best;
}

/** How many (stream, ts) scores are stored, optionally at one timestamp only. */
export async function countScores(atMs?: number): Promise<number> {
  const res = await pool().query<{ n: string | null }>(
    `SELECT sum(n) AS n FROM (SELECT DISTINCT ON (block, ts, k) 1 AS n
       FROM score_block, generate_series(0, ${BLOCK_SLOTS - 1}) k
       WHERE mask & (1 << k) <> 0 ${atMs === undefined ? "" : "AND ts = to_timestamp($1 / 1000.0)"}) x`,
    atMs === undefined ? [] : [atMs],
  );
  return Number(res.rows[0]?.n ?? 0);
}

/** Ids of the streams that have at least one score. */
export async function scoredStreamIds(): Promise<number[]> {
  const res = await pool().query<{ id: number }>(
    `SELECT DISTINCT block * ${BLOCK_SLOTS} + k AS id
     FROM (SELECT block, bit_or(mask) AS mask FROM score_block GROUP BY block) b, generate_series(0, ${BLOCK_SLOTS - 1}) k
     WHERE mask & (1 << k) <> 0 ORDER BY 1`,
  );
  return res.rows.map((r) => r.id);
}
