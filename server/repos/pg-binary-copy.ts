import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";

/**
 * PostgreSQL's binary COPY format (https://www.postgresql.org/docs/current/sql-copy.html,
 * "Binary Format") for the few fixed-width column types the hot paths move: int4, int8,
 * float8, timestamptz and bytea. Written by hand because it is the ingest/scoring hot path: rows go
 * straight from typed arrays into one Buffer (no per-row objects or number formatting), and
 * the server skips text parsing. pg-copy-streams carries the bytes.
 */
export type BinaryColumn =
  | { type: "int4"; data: ArrayLike<number> }
  /** int8 as numbers (exact below 2^53) */
  | { type: "int8"; data: ArrayLike<number> }
  | { type: "timestamptz"; data: ArrayLike<number> } // epoch milliseconds
  | { type: "float8"; data: ArrayLike<number> }
  /** float8 where null, NaN and ±Infinity are written as SQL NULL */
  | { type: "float8null"; data: ArrayLike<number | null> }
  | { type: "bytea"; data: ArrayLike<Uint8Array> };

/** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;
const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
const HEADER_BYTES = SIGNATURE.length + 8; // + flags int32 + header-extension length int32
const TWO32 = 4_294_967_296;

const fieldBytes = (t: Exclude<BinaryColumn["type"], "bytea">) => 4 + (t === "int4" ? 4 : 8);

/** A length-prefixed int8 field (exact for integers below 2^53); returns the next offset. */
function writeInt64Field(buf: Buffer, o: number, x: number): number {
  const hi = Math.floor(x / TWO32);
  buf.writeInt32BE(8, o);
  buf.writeInt32BE(hi, o + 4);
  buf.writeUInt32BE(x - hi * TWO32, o + 8);
  return o + 12;
}

/** Encodes `rows` rows of the given columns as one binary COPY payload (header to trailer). */
export function encodeBinaryCopy(rows: number, cols: BinaryColumn[]): Buffer {
  let rowBytes = 2;
  let varBytes = 0;
  for (const c of cols) {
    if (c.type === "bytea") {
      rowBytes += 4;
      for (let i = 0; i < rows; i++) varBytes += c.data[i]!.byteLength;
    } else rowBytes += fieldBytes(c.type);
  }
  const buf = Buffer.allocUnsafe(HEADER_BYTES + rows * rowBytes + varBytes + 2);
  SIGNATURE.copy(buf, 0);
  buf.writeInt32BE(0, SIGNATURE.length);
  buf.writeInt32BE(0, SIGNATURE.length + 4);
  let o = HEADER_BYTES;
  const n = cols.length;
  for (let i = 0; i < rows; i++) {
    buf.writeInt16BE(n, o);
    o += 2;
    for (let k = 0; k < n; k++) {
      const c = cols[k]!;
      switch (c.type) {
        case "int4":
          buf.writeInt32BE(4, o);
          buf.writeInt32BE(c.data[i]!, o + 4);
          o += 8;
          break;
        case "int8":
          o = writeInt64Field(buf, o, c.data[i]!);
          break;
        case "timestamptz":
          o = writeInt64Field(buf, o, Math.round((c.data[i]! - PG_EPOCH_MS) * 1000)); // µs since 2000
          break;
        case "float8":
          buf.writeInt32BE(8, o);
          buf.writeDoubleBE(c.data[i]!, o + 4);
          o += 12;
          break;
        case "bytea": {
          const b = c.data[i]!;
          buf.writeInt32BE(b.byteLength, o);
          buf.set(b, o + 4);
          o += 4 + b.byteLength;
          break;
        }
        case "float8null": {
          const v = c.data[i];
          if (v === null || v === undefined || !Number.isFinite(v)) {
            buf.writeInt32BE(-1, o);
            o += 4;
          } else {
            buf.writeInt32BE(8, o);
            buf.writeDoubleBE(v, o + 4);
            o += 12;
          }
          break;
        }
      }
    }
  }
  buf.writeInt16BE(-1, o);
  return buf.subarray(0, o + 2);
}

/** Runs `COPY <target> FROM STDIN (FORMAT binary)` with a payload from `encodeBinaryCopy`. */
export async function copyBinaryIn(client: pg.PoolClient | pg.Client, target: string, payload: Buffer): Promise<void> {
  await pipeline(Readable.from([payload]), client.query(copyFrom(`COPY ${target} FROM STDIN (FORMAT binary)`)));
}

export type BinaryOutType = "int4" | "int8" | "timestamptz" | "float8";
type OutArrays<T extends readonly BinaryOutType[]> = { [K in keyof T]: T[K] extends "int4" ? Int32Array : Float64Array };

/**
 * Runs `COPY (<select>) TO STDOUT (FORMAT binary)` and decodes the rows into one typed array per
 * column (int8 and timestamptz become float64; timestamptz as epoch milliseconds). Columns must
 * be NOT NULL. The select text must not carry user input (COPY takes no parameters).
 */
export async function copyBinaryOut<T extends readonly BinaryOutType[]>(
  client: pg.PoolClient | pg.Client,
  select: string,
  types: T,
): Promise<{ rows: number; cols: OutArrays<T> }> {
  const chunks: Buffer[] = [];
  const stream = client.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT binary)`));
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return decodeBinaryCopy(Buffer.concat(chunks), types);
}

export function decodeBinaryCopy<T extends readonly BinaryOutType[]>(buf: Buffer, types: T): { rows: number; cols: OutArrays<T> } {
  if (buf.length < HEADER_BYTES || !buf.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error("not a binary COPY stream");
  let o = HEADER_BYTES + buf.readInt32BE(SIGNATURE.length + 4);
  let rowBytes = 2;
  for (const t of types) rowBytes += 4 + (t === "int4" ? 4 : 8);
  const cap = Math.max(0, Math.floor((buf.length - o) / rowBytes));
  const cols = types.map((t) => (t === "int4" ? new Int32Array(cap) : new Float64Array(cap))) as unknown as OutArrays<T>;
  const out = cols as unknown as (Int32Array | Float64Array)[];
  let rows = 0;
  for (;;) {
    const nf = buf.readInt16BE(o);
    o += 2;
    if (nf === -1) break;
    if (nf !== types.length) throw new Error(`binary COPY row has ${nf} fields, expected ${types.length}`);
    for (let k = 0; k < nf; k++) {
      const len = buf.readInt32BE(o);
      o += 4;
      if (len < 0) throw new Error("unexpected NULL in binary COPY output");
      switch (types[k]) {
        case "int4":
          out[k]![rows] = buf.readInt32BE(o);
          break;
        case "int8":
          out[k]![rows] = buf.readInt32BE(o) * TWO32 + buf.readUInt32BE(o + 4);
          break;
        case "timestamptz":
          out[k]![rows] = (buf.readInt32BE(o) * TWO32 + buf.readUInt32BE(o + 4)) / 1000 + PG_EPOCH_MS;
          break;
        case "float8":
          out[k]![rows] = buf.readDoubleBE(o);
          break;
      }
      o += len;
    }
    rows++;
  }
  return { rows, cols: out.map((c) => c.subarray(0, rows)) as unknown as OutArrays<T> };
}
