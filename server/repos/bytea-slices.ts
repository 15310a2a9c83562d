/**
 * Large bytea values (detector snapshots) read in slices. node-pg receives every field of a row
 * as one string, a bytea as hex text (two characters a byte), and V8 refuses strings longer than
 * 2^29 − 24 characters: a field over ~256 MB (a 62,500-series partition's snapshot is ~330 MB
 * gzipped) fails with ERR_STRING_TOO_LONG inside the socket's data handler, which kills the
 * process. Each slice is a row of its own, all of them from one statement, so they come from one
 * MVCC snapshot: a save that replaces the value meanwhile cannot tear it.
 */

/** Bytes per slice: its hex text (64 MB) stays far below V8's string limit. */
export const BYTEA_SLICE_BYTES = 32 * 1024 * 1024;

/**
 * SQL for a query that returns `column` in slices: add `select` to the select list (columns
 * `slice_no` and `slice`) and `join` after the FROM item that holds the column, and order by
 * `slice_no` within each value. A NULL value yields no rows.
 */
export function byteaSlices(column: string, sliceBytes = BYTEA_SLICE_BYTES): { select: string; join: string } {
  const n = Math.floor(sliceBytes);
  if (!(n > 0)) throw new Error("byteaSlices: sliceBytes must be a positive integer");
  return {
    select: `g.slice_no, substring(${column} FROM g.slice_no * ${n} + 1 FOR ${n}) AS slice`,
    // an empty value is one empty slice; NULL makes the bound NULL: no rows
    join: `CROSS JOIN LATERAL generate_series(0, CASE WHEN octet_length(${column}) = 0 THEN 0 ELSE (octet_length(${column}) - 1) / ${n} END) AS g(slice_no)`,
  };
}

/** Joins the slices of consecutive rows of one value (ordered by `slice_no`) back into a Buffer. */
export function joinSlices(rows: readonly { slice: Buffer }[]): Buffer {
  return rows.length === 1 ? rows[0]!.slice : Buffer.concat(rows.map((r) => r.slice));
}
