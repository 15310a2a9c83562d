import { databaseUrl, isEmbeddedUrl, pool } from "../../db";
import type { SparkColumns } from "./columns";
import { inDerivedTransaction } from "./derived-writes";
import { copyBinaryIn, encodeBinaryCopy } from "./pg-binary-copy";

/**
 * Each stream row's newest sample and score and its sparkline points, written by the worker once
 * per round for every touched stream (a hot path: binary COPY into a temporary table, then one
 * UPDATE).
 */
const SPARK_POINTS = 60;
const SPARK_BYTES = SPARK_POINTS * 8;

/** Each row's points of one sparkline column as a big-endian float64 bytea (float8send order, so SQL can build them too). */
function packSpark(sp: SparkColumns, from: Int32Array, rows: number): Buffer[] {
  const out: Buffer[] = [];
  for (let r = 0; r < rows; r++) {
    const b = Buffer.allocUnsafe(8 * sp.count[r]!);
    for (let j = 0; j < sp.count[r]!; j++) b.writeDoubleBE(sp.data[from[r]! + j]!, 8 * j);
    out.push(b);
  }
  return out;
}

/** A packed big-endian float64 column (spark_t and friends) as numbers. */
export function unpack(b: Buffer | null): number[] {
  if (!b) return [];
  const out = new Array<number>(b.length >> 3);
  for (let i = 0; i < out.length; i++) out[i] = b.readDoubleBE(i * 8);
  return out;
}

export const nanToNull = (x: number) => (Number.isNaN(x) ? null : x);

export interface StreamRecent {
  id: number;
  /** Newest sample of the round; older than what the row holds leaves last_* untouched. */
  tsMs: number;
  value: number;
  score: number | null;
}

/**
 * One statement per worker round for every touched stream: latest sample/score and the
 * sparkline points (appended, newest 60 kept) the overview reads. `sparks` (row r's points;
 * none when absent) is read before this function first awaits: the caller may reuse its memory
 * as soon as the call returns.
 */
export async function updateStreamRecent(rows: StreamRecent[], sparks?: SparkColumns): Promise<void> {
  if (rows.length === 0) return;
  const keep = (col: string, x: string) =>
    `CASE WHEN octet_length(${x}) = 0 THEN s.${col} ELSE substring(COALESCE(s.${col}, ''::bytea) || ${x} FROM greatest(1, octet_length(COALESCE(s.${col}, ''::bytea)) + octet_length(${x}) - ${SPARK_BYTES - 1})) END`;
  const newer = "(s.last_sample_at IS NULL OR s.last_sample_at <= to_timestamp(x.t / 1000.0))";
  const update = (from: string) => `UPDATE stream s SET
       last_sample_at = CASE WHEN ${newer} THEN to_timestamp(x.t / 1000.0) ELSE s.last_sample_at END,
       last_value = CASE WHEN ${newer} THEN x.v ELSE s.last_value END,
       last_score = CASE WHEN ${newer} AND x.sc IS NOT NULL THEN x.sc ELSE s.last_score END,
       -- a sample after the staleness marker revives an ended stream
       ended_at = CASE WHEN s.ended_at < to_timestamp(x.t / 1000.0) THEN NULL ELSE s.ended_at END,
       spark_t = ${keep("spark_t", "x.pt")}, spark_v = ${keep("spark_v", "x.pv")}, spark_s = ${keep("spark_s", "x.ps")}
     FROM ${from}
     WHERE s.id = x.id`;
  const none = new Int32Array(rows.length);
  const sp = sparks ?? { data: new Float64Array(0), t: none, v: none, s: none, count: none };
  const cols = {
    id: rows.map((r) => r.id),
    t: rows.map((r) => r.tsMs),
    v: rows.map((r) => r.value),
    sc: rows.map((r) => r.score),
  };
  if (isEmbeddedUrl(databaseUrl())) {
    const [pt, pv, ps] = [sp.t, sp.v, sp.s].map((from) => packSpark(sp, from, rows.length));
    await pool().query(update("unnest($1::int[], $2::float8[], $3::float8[], $4::float8[], $5::bytea[], $6::bytea[], $7::bytea[]) AS x(id, t, v, sc, pt, pv, ps)"), [
      cols.id,
      cols.t,
      cols.v,
      cols.sc,
      pt,
      pv,
      ps,
    ]);
    return;
  }
  // PostgreSQL: binary COPY (bytea arrays as query parameters travel as hex text, twice the size);
  // encoded before any await, the sparklines straight from the caller's points
  const spark = (from: Int32Array) => ({ type: "float8bytes" as const, data: sp.data, from, count: sp.count });
  const payload = encodeBinaryCopy(rows.length, [
    { type: "int4", data: cols.id },
    { type: "float8", data: cols.t },
    { type: "float8", data: cols.v },
    { type: "float8null", data: cols.sc },
    spark(sp.t),
    spark(sp.v),
    spark(sp.s),
  ]);
  await inDerivedTransaction(async (client) => {
    await client.query("CREATE TEMP TABLE IF NOT EXISTS tmp_recent (id int, t float8, v float8, sc float8, pt bytea, pv bytea, ps bytea) ON COMMIT DELETE ROWS");
    await copyBinaryIn(client, "tmp_recent", payload);
    await client.query(update("tmp_recent x"));
  });
}
