import { databaseUrl, isEmbeddedUrl, pool } from "../db";
import { inDerivedTransaction } from "./derived-writes";
import { copyBinaryIn, encodeBinaryCopy } from "./pg-binary-copy";
import { BLOCK_BYTES, BLOCK_SLOTS, blockOf, packScoreBlocks, readSlot, ScoreMinuteFold, slotBit, slotOf, SLOT_BYTES, type BlockRows } from "./score-blocks";

/** Score rows column-wise; NaN (or null) in the band columns means "no band" (NULL). */
export interface ScoreColumns {
  streamIds: ArrayLike<number>;
  tsMs: ArrayLike<number>;
  score: ArrayLike<number>;
  confidence: ArrayLike<number>;
  expected: ArrayLike<number | null>;
  lower: ArrayLike<number | null>;
  upper: ArrayLike<number | null>;
}

type BlockTable = "score_block" | "score_block_1m";
const TIME_COLUMN: Record<BlockTable, string> = { score_block: "ts", score_block_1m: "bucket" };

/**
 * Block rows go in by binary COPY on PostgreSQL. There is no unique key to collide with: a
 * re-score appends rows, and readers take the newest `rev` of a (block, ts) per slot. PGlite's
 * socket cannot carry COPY, so it gets one INSERT of unnest()ed columns (the 1 kB blocks
 * travel as one bytea and are cut apart by position).
 */
async function writeBlocks(table: BlockTable, rows: BlockRows): Promise<void> {
  if (rows.n === 0) return;
  const cols = `${table} (block, ${TIME_COLUMN[table]}, mask, data)`;
  if (isEmbeddedUrl(databaseUrl())) {
    await pool().query(
      `INSERT INTO ${cols}
       SELECT b, to_timestamp(t / 1000.0), m, substring($4::bytea FROM ((o - 1) * ${BLOCK_BYTES} + 1)::int FOR ${BLOCK_BYTES})
       FROM unnest($1::int[], $2::float8[], $3::int[]) WITH ORDINALITY AS x(b, t, m, o)`,
      [Array.from(rows.block), Array.from(rows.tsMs), Array.from(rows.mask), Buffer.from(rows.data.buffer, rows.data.byteOffset, rows.data.byteLength)],
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
  await inDerivedTransaction((client) => copyBinaryIn(client, cols, payload));
}

/** Minutes of this process's scores in progress, for the one-minute blocks. */
const minutes = new ScoreMinuteFold();

/**
 * Writes a batch of scores (re-scoring the same (stream, ts) later supersedes it), and the
 * one-minute blocks that the batch completes.
 */
export async function insertScores(c: ScoreColumns): Promise<void> {
  if (c.tsMs.length === 0) return;
  await Promise.all([writeBlocks("score_block", packScoreBlocks(c)), writeBlocks("score_block_1m", minutes.add(c, Date.now()))]);
}

/** Writes the one-minute blocks still in progress (the worker calls this when it stops). */
export async function flushScoreMinutes(): Promise<void> {
  await writeBlocks("score_block_1m", minutes.flushAll());
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
async function readSlots(table: BlockTable, streamId: number, fromMs: number, toMs: number): Promise<{ t: number; d: Buffer }[]> {
  const col = TIME_COLUMN[table];
  const res = await pool().query<{ t: number; d: Buffer }>(
    `SELECT (extract(epoch FROM ${col}) * 1000)::float8 AS t, substring(data FROM $4 FOR ${SLOT_BYTES}) AS d
     FROM ${table}
     WHERE block = $1 AND ${col} >= to_timestamp($2 / 1000.0) AND ${col} < to_timestamp($3 / 1000.0) AND mask & $5 <> 0
     ORDER BY ${col}, rev`,
    [blockOf(streamId), fromMs, toMs, slotOf(streamId) * SLOT_BYTES + 1, slotBit(slotOf(streamId))],
  );
  return res.rows;
}

/** Scores at their own timestamps; a re-score (a later rev at the same time) replaces the earlier. */
async function rawScores(streamId: number, fromMs: number, toMs: number): Promise<ScorePoint[]> {
  const out: ScorePoint[] = [];
  for (const r of await readSlots("score_block", streamId, fromMs, toMs)) {
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
 * Scores of one stream over a range, downsampled to max score per bucket. Buckets of a minute
 * or more read the one-minute blocks (the minute in progress is not there yet).
 */
export async function readScores(streamId: number, fromMs: number, toMs: number, maxPoints = 2000): Promise<ScorePoint[]> {
  const bucketMs = Math.max(1000, Math.ceil((toMs - fromMs) / maxPoints / 1000) * 1000);
  if (bucketMs >= 60_000) {
    const rows = await readSlots("score_block_1m", streamId, fromMs, toMs);
    return downsample(rows.map((r) => ({ t: r.t, ...readSlot(r.d) })), bucketMs);
  }
  return downsample(await rawScores(streamId, fromMs, toMs), bucketMs);
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
