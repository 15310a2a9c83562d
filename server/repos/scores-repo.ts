import type pg from "pg";
import { databaseUrl, isEmbeddedUrl, pool } from "../db";
import { inDerivedTransaction } from "./derived-writes";
import { copyBinaryIn, encodeBinaryCopy, type BinaryColumn } from "./pg-binary-copy";
import { BLOCK_BYTES, BLOCK_SLOTS, BlockRowBuilder, blockOf, packScoreBlocks, readSlot, slotBit, slotOf, SLOT_BYTES, type BlockRows } from "./score-blocks";
import type { ScoreColumns } from "./score-columns";
import { ScoreMinuteFold, type ScoreMinuteRows } from "./score-minute-fold";
import { isUniqueViolation } from "./transaction";

export type { ScoreColumns } from "./score-columns";

/**
 * Block rows go in by binary COPY on PostgreSQL. There is no unique key to collide with: a
 * re-score appends rows, and readers take the newest `rev` of a (block, ts) per slot. PGlite's
 * socket cannot carry COPY, so it gets one INSERT of unnest()ed columns (the 1 kB blocks
 * travel as one bytea and are cut apart by position).
 */
async function writeBlocks(rows: BlockRows): Promise<void> {
  if (rows.n === 0) return;
  if (isEmbeddedUrl(databaseUrl())) {
    await pool().query(
      `INSERT INTO score_block (block, ts, mask, data)
       SELECT b, to_timestamp(t / 1000.0), m, substring($4::bytea FROM ((o - 1) * ${BLOCK_BYTES} + 1)::int FOR ${BLOCK_BYTES})
       FROM unnest($1::int[], $2::float8[], $3::int[]) WITH ORDINALITY AS x(b, t, m, o)`,
      // (a copy: `rows` views the reused builder, and a queued query binds its values later)
      [Array.from(rows.block), Array.from(rows.tsMs), Array.from(rows.mask), Buffer.from(rows.data)],
    );
    return;
  }
  const data = Array.from({ length: rows.n }, (_, r) => rows.data.subarray(r * BLOCK_BYTES, (r + 1) * BLOCK_BYTES));
  const payload = encodeBinaryCopy(rows.n, [
    { type: "int4", data: rows.block },
    { type: "timestamptz", data: rows.tsMs },
    { type: "int4", data: rows.mask },
    { type: "bytea", data },
  ]);
  await inDerivedTransaction((client) => copyBinaryIn(client, "score_block (block, ts, mask, data)", payload));
}

const MINUTE_TABLE = "score_rollup_1m";
const MINUTE_COLUMNS = "(stream_id, bucket, score, confidence, expected, lower, upper, n)";
/** Merges a minute written before (after a restart): extremes of both, means weighted by n. */
const MINUTE_MERGE = `ON CONFLICT (stream_id, bucket) DO UPDATE SET
  score = CASE WHEN r.score = 'NaN' THEN EXCLUDED.score WHEN EXCLUDED.score = 'NaN' THEN r.score ELSE GREATEST(r.score, EXCLUDED.score) END,
  confidence = (r.confidence * r.n + EXCLUDED.confidence * EXCLUDED.n) / (r.n + EXCLUDED.n),
  expected = CASE WHEN r.expected IS NULL THEN EXCLUDED.expected WHEN EXCLUDED.expected IS NULL THEN r.expected
                  ELSE (r.expected * r.n + EXCLUDED.expected * EXCLUDED.n) / (r.n + EXCLUDED.n) END,
  lower = LEAST(r.lower, EXCLUDED.lower),
  upper = GREATEST(r.upper, EXCLUDED.upper),
  n = r.n + EXCLUDED.n`;

const minuteCopyColumns = (m: ScoreMinuteRows): BinaryColumn[] => [
  { type: "int4", data: m.streamIds },
  { type: "timestamptz", data: m.bucketMs },
  { type: "float8", data: m.score },
  { type: "float8", data: m.confidence },
  { type: "float8null", data: m.expected },
  { type: "float8null", data: m.lower },
  { type: "float8null", data: m.upper },
  { type: "int4", data: m.n },
];

async function mergeMinutes(client: pg.PoolClient, m: ScoreMinuteRows): Promise<void> {
  const nul = (xs: number[]) => xs.map((x) => (Number.isNaN(x) ? null : x));
  await client.query(
    `INSERT INTO ${MINUTE_TABLE} AS r ${MINUTE_COLUMNS}
     SELECT s, to_timestamp(b / 1000.0), sc, cf, e, lo, up, n
     FROM unnest($1::int[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::int[]) AS x(s, b, sc, cf, e, lo, up, n)
     ${MINUTE_MERGE}`,
    [m.streamIds, m.bucketMs, m.score, m.confidence, nul(m.expected), nul(m.lower), nul(m.upper), m.n],
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
 * one exists already (a restart) and always on PGlite.
 */
async function writeMinutes(m: ScoreMinuteRows): Promise<void> {
  if (m.streamIds.length === 0) return;
  if (!isEmbeddedUrl(databaseUrl())) {
    try {
      await inDerivedTransaction((client) => copyBinaryIn(client, `${MINUTE_TABLE} ${MINUTE_COLUMNS}`, encodeBinaryCopy(m.streamIds.length, minuteCopyColumns(m))));
      return;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
  }
  await inDerivedTransaction(async (client) => {
    for (const part of distinctParts(m)) await mergeMinutes(client, part);
  });
}

/** Minutes of this process's scores in progress, for score_rollup_1m. */
const minutes = new ScoreMinuteFold();
/** Reused by every batch: `writeBlocks` encodes (or copies) the rows before its first await. */
const blockRows = new BlockRowBuilder();

/**
 * Writes a batch of scores (re-scoring the same (stream, ts) later supersedes it), and the
 * one-minute rows that the batch completes.
 */
export async function insertScores(c: ScoreColumns): Promise<void> {
  if (c.tsMs.length === 0) return;
  await Promise.all([writeBlocks(packScoreBlocks(c, blockRows)), writeMinutes(minutes.add(c, Date.now()))]);
}

/** Writes the one-minute rows still in progress (the worker calls this when it stops). */
export async function flushScoreMinutes(): Promise<void> {
  await writeMinutes(minutes.flushAll());
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
 * Scores of one stream over a range, downsampled to max score per bucket. Wide buckets read the
 * one-minute rows (the minute in progress is not there yet), narrow ones the score blocks.
 */
export async function readScores(streamId: number, fromMs: number, toMs: number, maxPoints = 2000): Promise<ScorePoint[]> {
  const bucketMs = Math.max(1000, Math.ceil((toMs - fromMs) / maxPoints / 1000) * 1000);
  if (bucketMs < MINUTE_ROWS_FROM_MS) return downsample(await rawScores(streamId, fromMs, toMs), bucketMs);
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
