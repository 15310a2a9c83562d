import { z } from "zod";
import { ZStreamKind, type TStreamKind } from "@/lib/schemas/stream";
import { pool } from "../../db";
import { queryRows, ZMs } from "../rows";
import type { RawSamples } from "./columns";

/** Reads of one or more streams' raw samples for the backtest (its replay and its time range). */

export interface StreamSpan {
  id: number;
  kind: TStreamKind;
  /** oldest and newest stored sample (null: none) */
  firstMs: number | null;
  lastMs: number | null;
}

/** Each stream's kind and the time span of its stored samples. */
export async function streamSpans(ids: number[]): Promise<StreamSpan[]> {
  if (ids.length === 0) return [];
  const rows = await queryRows(
    pool(),
    z.object({ id: z.number(), kind: ZStreamKind, first_ms: ZMs.nullable(), last_ms: ZMs.nullable() }),
    `SELECT s.id, s.kind::text AS kind,
       (SELECT (extract(epoch FROM b.ts) * 1000)::float8 FROM sample_block b
         WHERE b.block = s.id / 32 AND b.vals[s.id % 32 + 1] IS NOT NULL ORDER BY b.ts LIMIT 1) AS first_ms,
       (SELECT (extract(epoch FROM b.ts) * 1000)::float8 FROM sample_block b
         WHERE b.block = s.id / 32 AND b.vals[s.id % 32 + 1] IS NOT NULL ORDER BY b.ts DESC LIMIT 1) AS last_ms
     FROM stream s WHERE s.id = ANY($1::int[]) ORDER BY s.id`,
    [ids],
  );
  return rows.map((r) => ({ id: r.id, kind: r.kind, firstMs: r.first_ms, lastMs: r.last_ms }));
}

/**
 * The stored samples of `ids` with from ≤ ts < to, in time order (the stream id breaks ties), as
 * they were written: no resampling. At most `limit` samples: the newest ones.
 */
export async function readRawSamples(ids: number[], fromMs: number, toMs: number, limit: number): Promise<RawSamples> {
  const res = await pool().query<{ id: number; t: number; v: number }>(
    `SELECT id, t, v FROM (
       SELECT DISTINCT ON (x.id, b.ts) x.id, (extract(epoch FROM b.ts) * 1000)::float8 AS t, b.vals[x.id % 32 + 1] AS v
       FROM unnest($1::int[]) AS x(id)
       JOIN sample_block b ON b.block = x.id / 32 AND b.ts >= to_timestamp($2 / 1000.0) AND b.ts < to_timestamp($3 / 1000.0)
       WHERE b.vals[x.id % 32 + 1] IS NOT NULL
       ORDER BY x.id, b.ts DESC, b.seq) s
     ORDER BY t DESC, id LIMIT $4`,
    [ids, fromMs, toMs, limit + 1],
  );
  const truncated = res.rows.length > limit;
  const rows = truncated ? res.rows.slice(0, limit) : res.rows;
  const n = rows.length;
  const out: RawSamples = { streamIds: new Int32Array(n), tsMs: new Float64Array(n), values: new Float64Array(n), truncated };
  // newest first from the query (the limit keeps the newest): reversed into time order
  for (let k = 0; k < n; k++) {
    const r = rows[n - 1 - k]!;
    out.streamIds[k] = r.id;
    out.tsMs[k] = r.t;
    out.values[k] = r.v;
  }
  return out;
}
