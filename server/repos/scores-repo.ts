import { databaseUrl, isEmbeddedUrl, pool } from "../db";
import { inDerivedTransaction } from "./derived-writes";
import { isUniqueViolation } from "./transaction";
import { copyBinaryIn, encodeBinaryCopy, type BinaryColumn } from "./pg-binary-copy";

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

const UPSERT = `ON CONFLICT (stream_id, ts) DO UPDATE SET score = EXCLUDED.score, confidence = EXCLUDED.confidence,
       expected = EXCLUDED.expected, lower = EXCLUDED.lower, upper = EXCLUDED.upper`;

/** Optional band columns: NaN/±Infinity are stored as NULL ("no band"), on both paths. */
const band = (x: number | null) => (x === null || !Number.isFinite(x) ? null : x);

const scoreCopyColumns = (c: ScoreColumns): BinaryColumn[] => [
  { type: "int4", data: c.streamIds },
  { type: "timestamptz", data: c.tsMs },
  { type: "float8", data: c.score },
  { type: "float8", data: c.confidence },
  { type: "float8null", data: c.expected },
  { type: "float8null", data: c.lower },
  { type: "float8null", data: c.upper },
];

/**
 * Writes a batch of scores; re-scoring the same (stream, ts) after a restart overwrites. On
 * PostgreSQL the rows are COPYed (binary) straight into `score`; if one already exists (unique
 * violation: a re-score) the batch is staged in a temp table and upserted instead. PGlite's
 * socket cannot carry COPY, so it gets one unnest() upsert.
 */
export async function insertScores(c: ScoreColumns): Promise<void> {
  if (c.tsMs.length === 0) return;
  if (isEmbeddedUrl(databaseUrl())) {
    await pool().query(
      `INSERT INTO score (stream_id, ts, score, confidence, expected, lower, upper)
       SELECT s, to_timestamp(t / 1000.0), sc, cf, e, lo, up
       FROM unnest($1::int[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[])
         AS x(s, t, sc, cf, e, lo, up)
       ${UPSERT}`,
      [Array.from(c.streamIds), Array.from(c.tsMs), Array.from(c.score), Array.from(c.confidence), Array.from(c.expected, band), Array.from(c.lower, band), Array.from(c.upper, band)],
    );
    return;
  }
  const payload = encodeBinaryCopy(c.tsMs.length, scoreCopyColumns(c));
  try {
    await inDerivedTransaction(async (client) => {
      await copyBinaryIn(client, "score (stream_id, ts, score, confidence, expected, lower, upper)", payload);
    });
    return;
  } catch (e) {
    if (!isUniqueViolation(e)) throw e; // a re-score: upsert instead
  }
  await inDerivedTransaction(async (client) => {
    await client.query(
      "CREATE TEMP TABLE IF NOT EXISTS tmp_scores (stream_id int, ts timestamptz, score float8, confidence float8, expected float8, lower float8, upper float8) ON COMMIT DELETE ROWS",
    );
    await copyBinaryIn(client, "tmp_scores", payload);
    await client.query(
      `INSERT INTO score (stream_id, ts, score, confidence, expected, lower, upper)
       SELECT DISTINCT ON (stream_id, ts) stream_id, ts, score, confidence, expected, lower, upper
       FROM tmp_scores ORDER BY stream_id, ts
       ${UPSERT}`,
    );
  });
}

export interface ScorePoint {
  t: number;
  score: number;
  confidence: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
}

/** Scores of one stream over a range, downsampled to max score per bucket (peaks survive). */
export async function readScores(streamId: number, fromMs: number, toMs: number, maxPoints = 2000): Promise<ScorePoint[]> {
  const bucketMs = Math.max(1000, Math.ceil((toMs - fromMs) / maxPoints / 1000) * 1000);
  const res = await pool().query<ScorePoint>(
    `SELECT (extract(epoch FROM date_bin(make_interval(secs => $4 / 1000.0), ts, TIMESTAMPTZ '2000-01-01')) * 1000)::float8 AS t,
            max(score) AS score, avg(confidence) AS confidence, avg(expected) AS expected, min(lower) AS lower, max(upper) AS upper
     FROM score WHERE stream_id = $1 AND ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0)
     GROUP BY 1 ORDER BY 1`,
    [streamId, fromMs, toMs, bucketMs],
  );
  return res.rows;
}

