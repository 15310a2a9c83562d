import type pg from "pg";

/**
 * Large bytea values (detector snapshots) stored as a row per chunk: a table `<owner>_chunk`
 * keyed by the owning row's key and `seq` (0, 1, …), the owner's own column left empty and its
 * `chunk_count` saying how many rows hold the value. Why rows and not one value:
 * - Sent as one parameter, a snapshot is one protocol message of its whole size, and the
 *   embedded database's socket server (`@electric-sql/pglite-socket` 0.2.17) appends every TCP
 *   read to the message received so far with `Buffer.concat`: its cost grows with the square of
 *   the message (minutes, and event-loop holds of tens of seconds, for 80 MB).
 * - Joined inside the database into one value (`string_agg` over chunks staged in a temporary
 *   table), the join and the store of the whole value run in PGlite's Wasm on the Node thread
 *   that hosts it, holding that event loop for their whole length (1.8–4.2 s for 80 MB), and
 *   reading it back is one value again.
 * As rows, every statement handles one chunk (a write) or a few (a read), so the event loop is
 * held for one statement's worth at a time. A value's rows are written in the transaction that
 * writes its owner row and read in one MVCC snapshot (`inReadSnapshot`, transaction.ts), so a
 * reader sees the old value or the new one, never a mix, and a failed or interrupted save leaves
 * the old one. Small values (one chunk or less) stay inline in the owner's column, no chunk rows.
 */

/**
 * Bytes per chunk. A chunk still costs PGlite's socket the square of its size, so smaller is
 * cheaper there until the statements' own cost shows; PostgreSQL is no slower for it
 * (docs/scale-out.md, "Snapshot writes in chunks").
 */
export const BYTEA_WRITE_CHUNK_BYTES = 1024 * 1024;

/** Chunks per read statement: a few, so one statement holds PGlite's host for a few MB only. */
export const BYTEA_READ_BATCH_CHUNKS = 4;

export interface ByteaWriteOptions {
  /** bytes per chunk (tests use small ones); default BYTEA_WRITE_CHUNK_BYTES */
  chunkBytes?: number;
}

/** A table of chunks: `name` (columns `seq`, `data`) and the columns of its owner's key, in order. */
export interface ChunkTable {
  name: string;
  key: readonly string[];
}

type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

function chunkSize(opts: ByteaWriteOptions): number {
  const chunk = Math.floor(opts.chunkBytes ?? BYTEA_WRITE_CHUNK_BYTES);
  if (!(chunk > 0)) throw new Error("bytea chunks: chunkBytes must be a positive integer");
  return chunk;
}

/** How many chunk rows `value` takes: 0 when it fits in one chunk (it is stored inline). */
export function chunkCount(value: Buffer, opts: ByteaWriteOptions = {}): number {
  const chunk = chunkSize(opts);
  return value.length <= chunk ? 0 : Math.ceil(value.length / chunk);
}

const keyWhere = (table: ChunkTable) => table.key.map((k, i) => `${k} = $${i + 1}`).join(" AND ");

/**
 * Replaces the chunk rows of the owner `key` with `value`'s (none when `chunkCount` is 0). Run
 * it on the client of the transaction that writes the owner row (the FK needs that row).
 */
export async function writeChunks(client: Queryable, table: ChunkTable, key: readonly unknown[], value: Buffer, opts: ByteaWriteOptions = {}): Promise<void> {
  const chunk = chunkSize(opts);
  await client.query(`DELETE FROM ${table.name} WHERE ${keyWhere(table)}`, [...key]);
  const n = chunkCount(value, opts);
  const cols = [...table.key, "seq", "data"];
  const sql = `INSERT INTO ${table.name} (${cols.join(", ")}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(", ")})`;
  // one chunk per statement: one protocol message of one chunk's size
  for (let seq = 0; seq < n; seq++) {
    await client.query(sql, [...key, seq, value.subarray(seq * chunk, (seq + 1) * chunk)]);
  }
}

/** The owner's chunk rows are fewer or other than its `chunk_count` says: it was deleted meanwhile. */
export class MissingChunksError extends Error {
  constructor(table: ChunkTable, key: readonly unknown[]) {
    super(`${table.name}: the chunks of (${key.map(String).join(", ")}) are missing (deleted since their owner was read).`);
    this.name = "MissingChunksError";
  }
}

/**
 * Reads the `count` chunk rows (`bytes` in all) of the owner `key`, a few per statement, into one
 * Buffer allocated once. Run it in the MVCC snapshot that read the owner row (`inReadSnapshot`):
 * chunks read outside it could be another save's.
 */
export async function readChunks(
  client: Queryable,
  table: ChunkTable,
  key: readonly unknown[],
  count: number,
  bytes: number,
  batch = BYTEA_READ_BATCH_CHUNKS,
): Promise<Buffer> {
  const out = Buffer.allocUnsafe(bytes);
  const k = table.key.length;
  const sql = `SELECT seq, data FROM ${table.name} WHERE ${keyWhere(table)} AND seq >= $${k + 1} AND seq < $${k + 2} ORDER BY seq`;
  let at = 0;
  let next = 0;
  for (let from = 0; from < count; from += batch) {
    const res = await client.query<{ seq: number; data: Buffer }>(sql, [...key, from, from + batch]);
    for (const r of res.rows) {
      if (r.seq !== next || at + r.data.length > bytes) throw new MissingChunksError(table, key);
      r.data.copy(out, at);
      at += r.data.length;
      next++;
    }
  }
  if (next !== count || at !== bytes) throw new MissingChunksError(table, key);
  return out;
}

/**
 * Copies the `count` chunk rows of `fromKey` in `from` to `toKey` in `to`, inside the database,
 * `batch` per statement: one by default, like a write (four held PGlite's host about 4× longer
 * for no gain in time: docs/scale-out.md, "Snapshots as chunk rows"). Run it in the transaction
 * that writes the new owner row, in the MVCC snapshot that read the old one.
 */
export async function copyChunks(
  client: Queryable,
  from: ChunkTable,
  fromKey: readonly unknown[],
  to: ChunkTable,
  toKey: readonly unknown[],
  count: number,
  batch = 1,
): Promise<void> {
  const t = toKey.length;
  const f = from.key.length;
  const where = from.key.map((k, i) => `${k} = $${t + i + 1}`).join(" AND ");
  const sql = `INSERT INTO ${to.name} (${[...to.key, "seq", "data"].join(", ")})
     SELECT ${toKey.map((_, i) => `$${i + 1}`).join(", ")}, seq, data FROM ${from.name} WHERE ${where} AND seq >= $${t + f + 1} AND seq < $${t + f + 2}`;
  for (let at = 0; at < count; at += batch) await client.query(sql, [...toKey, ...fromKey, at, at + batch]);
}
