import { pool } from "../../db";

/**
 * Retention by data time: each stream keeps the `retentionMs` of data before its own newest
 * sample (`stream.last_sample_at`), not before the wall clock. For a live stream that is the
 * last N days; a CSV import of 2014 keeps its last N days of 2014 instead of vanishing at the
 * next run. A stream without a newest sample yet keeps everything; a stream that was deleted
 * keeps nothing.
 *
 * Samples and scores are stored in rows shared by 32 consecutive stream ids (sample-blocks.ts):
 * a row goes once every sample (score) in it is past its own stream's window. Deletes run in
 * bounded batches (short transactions, no long locks).
 */

/** Per block of 32 ids: each slot's cutoff (`cuts[k + 1]`), and the latest of them. */
const CUTOFFS = `
  WITH ids AS (SELECT DISTINCT id / 32 AS block FROM stream),
  cut AS (
    SELECT g.block,
      array_agg(CASE WHEN s.id IS NULL THEN 'infinity'::timestamptz
                     WHEN s.last_sample_at IS NULL THEN '-infinity'::timestamptz
                     ELSE s.last_sample_at - make_interval(secs => $1 / 1000.0) END ORDER BY k) AS cuts
    FROM ids g CROSS JOIN generate_series(0, 31) k LEFT JOIN stream s ON s.id = g.block * 32 + k
    GROUP BY g.block),
  c AS (SELECT block, cuts, (SELECT max(x) FROM unnest(cuts) x WHERE x < 'infinity') AS max_cut FROM cut)`;

const EXPIRED: Record<string, string> = {
  sample_block: `${CUTOFFS}
    SELECT b.ctid FROM c JOIN sample_block b ON b.block = c.block AND b.ts < c.max_cut
    WHERE NOT EXISTS (SELECT 1 FROM unnest(b.vals) WITH ORDINALITY v(x, k) WHERE v.x IS NOT NULL AND b.ts >= c.cuts[v.k])
    LIMIT $2`,
  score_block: `${CUTOFFS}
    SELECT b.ctid FROM c JOIN score_block b ON b.block = c.block AND b.ts < c.max_cut
    WHERE NOT EXISTS (SELECT 1 FROM generate_series(0, 31) k WHERE b.mask & (1 << k) <> 0 AND b.ts >= c.cuts[k + 1])
    LIMIT $2`,
  sample_rollup_1m: `SELECT r.ctid FROM sample_rollup_1m r LEFT JOIN stream s ON s.id = r.stream_id
    WHERE s.id IS NULL OR r.bucket < s.last_sample_at - make_interval(secs => $1 / 1000.0) LIMIT $2`,
  score_rollup_1m: `SELECT r.ctid FROM score_rollup_1m r LEFT JOIN stream s ON s.id = r.stream_id
    WHERE s.id IS NULL OR r.bucket < s.last_sample_at - make_interval(secs => $1 / 1000.0) LIMIT $2`,
};

/** Deletes what is past each stream's retention window; returns the rows deleted per table. */
export async function deleteExpired(retentionMs: number, batch = 50_000, maxBatches = 20): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [table, victims] of Object.entries(EXPIRED)) {
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const res = await pool().query(`DELETE FROM ${table} WHERE ctid = ANY(ARRAY(${victims}))`, [retentionMs, batch]);
      total += res.rowCount ?? 0;
      if ((res.rowCount ?? 0) < batch) break;
    }
    out[table] = total;
  }
  return out;
}
