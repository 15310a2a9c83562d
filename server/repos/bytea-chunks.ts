import type pg from "pg";
import { pool } from "../db";
import { inTransaction } from "./transaction";

/**
 * Large bytea values (detector snapshots) written in chunks. Sent as one parameter, a snapshot
 * is one protocol message of its whole size, and the embedded database's socket server
 * (`@electric-sql/pglite-socket` 0.2.17) appends every TCP read to the message received so far
 * with `Buffer.concat`: its cost grows with the square of the message (minutes, and event-loop
 * holds of tens of seconds, for 80 MB). Here each chunk is a message of its own, staged in a
 * temporary table, and the statement that stores the value joins the chunks inside the
 * database. All of it is one transaction: a reader sees the old value or the new one, never a
 * part, and a failure (or a crash) leaves the old one.
 * Why a staging table and not `UPDATE … SET v = v || $chunk`: every such UPDATE writes the whole
 * value so far again (a new row version, TOASTed and WAL-logged), so n chunks write the value
 * about n/2 times over; the staging table is written once, unlogged, and the value once.
 */

/**
 * Bytes per chunk. A chunk still costs PGlite's socket the square of its size, so smaller is
 * cheaper there until the statements' own cost shows; PostgreSQL is no slower for it
 * (docs/scale-out.md, "Snapshot writes in chunks").
 */
export const BYTEA_WRITE_CHUNK_BYTES = 1024 * 1024;

export interface ByteaWriteOptions {
  /** bytes per chunk (tests use small ones); default BYTEA_WRITE_CHUNK_BYTES */
  chunkBytes?: number;
}

// PGlite is one session shared by every connection, but a transaction holds it alone
// (server/embedded/pglite-queue.ts), so one name serves every writer; ON COMMIT DROP (and a
// rollback) remove it with the transaction.
const STAGE = "omen_bytea_chunk";

/**
 * Runs the statement `sql(valueSql)` with `params` and `value`: `valueSql` is the SQL expression
 * to put where the value goes, one more parameter (`$<params.length + 1>`) when the value fits
 * in one chunk, else the chunks staged in the same transaction, joined.
 */
export async function writeLargeBytea<R extends pg.QueryResultRow = pg.QueryResultRow>(
  value: Buffer,
  params: readonly unknown[],
  sql: (valueSql: string) => string,
  opts: ByteaWriteOptions = {},
): Promise<pg.QueryResult<R>> {
  const chunk = Math.floor(opts.chunkBytes ?? BYTEA_WRITE_CHUNK_BYTES);
  if (!(chunk > 0)) throw new Error("writeLargeBytea: chunkBytes must be a positive integer");
  if (value.length <= chunk) {
    return pool().query<R>(sql(`$${params.length + 1}`), [...params, value]);
  }
  return inTransaction(async (client) => {
    await client.query(`CREATE TEMP TABLE ${STAGE} (seq int PRIMARY KEY, part bytea NOT NULL) ON COMMIT DROP`);
    for (let seq = 0; seq * chunk < value.length; seq++) {
      await client.query(`INSERT INTO ${STAGE} (seq, part) VALUES ($1, $2)`, [seq, value.subarray(seq * chunk, (seq + 1) * chunk)]);
    }
    return client.query<R>(sql(`(SELECT string_agg(part, ''::bytea ORDER BY seq) FROM ${STAGE})`), [...params]);
  });
}
