import { z } from "zod";
import { pool } from "../db";
import { queryRows } from "./rows";

export interface TruthRange {
  streamId: number;
  startMs: number;
  endMs: number;
  origin: string;
}

/**
 * Replaces the ground-truth ranges `origin` gave these streams within [fromMs, toMs] (a re-import
 * of the same file replaces its own ranges, leaves others) with `ranges`.
 */
export async function replaceTruthRanges(origin: string, streamIds: number[], fromMs: number, toMs: number, ranges: Omit<TruthRange, "origin">[]): Promise<number> {
  const client = await pool().connect();
  try {
    await client.query("BEGIN");
    await client.query(
      `DELETE FROM stream_label WHERE origin = $1 AND stream_id = ANY($2::int[])
         AND start_at >= to_timestamp($3 / 1000.0) AND start_at <= to_timestamp($4 / 1000.0)`,
      [origin, streamIds, fromMs, toMs],
    );
    if (ranges.length) {
      await client.query(
        `INSERT INTO stream_label (stream_id, start_at, end_at, origin)
         SELECT s, to_timestamp(a / 1000.0), to_timestamp(b / 1000.0), $4 FROM unnest($1::int[], $2::float8[], $3::float8[]) AS x(s, a, b)
         ON CONFLICT (stream_id, origin, start_at) DO UPDATE SET end_at = EXCLUDED.end_at`,
        [ranges.map((r) => r.streamId), ranges.map((r) => r.startMs), ranges.map((r) => r.endMs), origin],
      );
    }
    await client.query("COMMIT");
    return ranges.length;
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/** Ground-truth ranges of `ids` that overlap [fromMs, toMs]. */
export async function truthRanges(ids: number[], fromMs: number, toMs: number): Promise<TruthRange[]> {
  if (ids.length === 0) return [];
  const rows = await queryRows(
    pool(),
    z.object({ stream_id: z.number(), start_ms: z.number(), end_ms: z.number(), origin: z.string() }),
    `SELECT stream_id, (extract(epoch FROM start_at) * 1000)::float8 AS start_ms, (extract(epoch FROM end_at) * 1000)::float8 AS end_ms, origin
     FROM stream_label WHERE stream_id = ANY($1::int[]) AND start_at <= to_timestamp($3 / 1000.0) AND end_at >= to_timestamp($2 / 1000.0)
     ORDER BY start_at, stream_id`,
    [ids, fromMs, toMs],
  );
  return rows.map((r) => ({ streamId: r.stream_id, startMs: r.start_ms, endMs: r.end_ms, origin: r.origin }));
}
