import { pool } from "../db";

export interface ScoreColumns {
  streamIds: number[];
  tsMs: number[];
  score: number[];
  confidence: number[];
  expected: (number | null)[];
  lower: (number | null)[];
  upper: (number | null)[];
}

/** Writes a batch of scores; re-scoring the same (stream, ts) after a restart overwrites. */
export async function insertScores(c: ScoreColumns): Promise<void> {
  if (c.tsMs.length === 0) return;
  await pool().query(
    `INSERT INTO score (stream_id, ts, score, confidence, expected, lower, upper)
     SELECT s, to_timestamp(t / 1000.0), sc, cf, e, lo, up
     FROM unnest($1::int[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[])
       AS x(s, t, sc, cf, e, lo, up)
     ON CONFLICT (stream_id, ts) DO UPDATE SET score = EXCLUDED.score, confidence = EXCLUDED.confidence,
       expected = EXCLUDED.expected, lower = EXCLUDED.lower, upper = EXCLUDED.upper`,
    [c.streamIds, c.tsMs, c.score, c.confidence, c.expected, c.lower, c.upper],
  );
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

