import { pool } from "../db";

const TABLES = { sample_block: "ts", score_block: "ts", sample_rollup_1m: "bucket", score_rollup_1m: "bucket" } as const;

/**
 * Deletes rows older than the cutoff in bounded batches (short transactions, no long locks).
 * Append-only tables keep their oldest rows at the start of the heap, so each batch finds its
 * victims quickly without a time index.
 */
export async function deleteOlderThan(cutoffMs: number, batch = 50_000, maxBatches = 20): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [table, col] of Object.entries(TABLES)) {
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const res = await pool().query(
        `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${col} < to_timestamp($1 / 1000.0) LIMIT $2))`,
        [cutoffMs, batch],
      );
      total += res.rowCount ?? 0;
      if ((res.rowCount ?? 0) < batch) break;
    }
    out[table] = total;
  }
  return out;
}
