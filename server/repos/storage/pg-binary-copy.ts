import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";

/**
 * PostgreSQL's binary COPY format (https://www.postgresql.org/docs/current/sql-copy.html,
 * "Binary Format") for the few fixed-width column types the hot paths move: int4, int8,
 * float8, timestamptz, bytea and float8[]. Written by hand because it is the ingest/scoring hot path: rows go
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
  | { type: "bytea"; data: ArrayLike<Uint8Array> }
  /** bytea holding row r's `count[r]` float64s from data[from[r]], big-endian (float8send order), e.g. a sparkline */
  | { type: "float8bytes"; data: Float64Array; from: Int32Array; count: Int32Array }
  /**
   * float8[] per row: row r holds data[rowStart[r]] … data[rowStart[r + 1] - 1] at the (1-based)
   * array positions pos[i] + 1, ascending; the positions in between are NULL (a sample block row)
   */
  | { type: "float8array"; data: Float64Array; pos: ArrayLike<number>; rowStart: Int32Array };

/** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;
const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
const HEADER_BYTES = SIGNATURE.length + 8; // + flags int32 + header-extension length int32
const TWO32 = 4_294_967_296;

type Variable = "bytea" | "float8bytes" | "float8array";
const fieldBytes = (t: Exclude<BinaryColumn["type"], Variable>) => 4 + (t === "int4" ? 4 : 8);

// Column by column, each in its own small loop over a Float64Array: one element type per loop
// keeps V8's element access monomorphic, and DataView stores compile to plain moves (the
// row-by-row switch over mixed column types measured ~3x slower on the score COPY). Callers pass
// typed arrays and plain arrays alike, so numeric columns are first made Float64Arrays (a
// native copy when they are not one already): a loop that has seen several element kinds, or
// the union of column types, falls back to generic element access and measured 5–7x slower.
// `at[i]` is row i's write offset.

/** A numeric column as a Float64Array (null → NaN, which float8null writes as NULL). */
function float64Of(data: ArrayLike<number | null>): Float64Array {
  if (data instanceof Float64Array) return data;
  const out = new Float64Array(data.length);
  for (let i = 0; i < out.length; i++) {
    const v = data[i];
    out[i] = v === null || v === undefined ? Number.NaN : v;
  }
  return out;
}

function putInt4(dv: DataView, at: Int32Array, data: Float64Array, rows: number): void {
  for (let i = 0; i < rows; i++) {
    const o = at[i]!;
    dv.setInt32(o, 4);
    dv.setInt32(o + 4, data[i]!);
    at[i] = o + 8;
  }
}

/** int8 from a JS number (exact below 2^53), optionally as timestamptz (epoch ms → µs since 2000). */
function putInt8(dv: DataView, at: Int32Array, data: Float64Array, rows: number, timestamp: boolean): void {
  for (let i = 0; i < rows; i++) {
    const o = at[i]!;
    const x = timestamp ? Math.round((data[i]! - PG_EPOCH_MS) * 1000) : data[i]!;
    const hi = Math.floor(x / TWO32);
    dv.setInt32(o, 8);
    dv.setInt32(o + 4, hi);
    dv.setUint32(o + 8, x - hi * TWO32);
    at[i] = o + 12;
  }
}

function putFloat8(dv: DataView, at: Int32Array, data: Float64Array, rows: number): void {
  for (let i = 0; i < rows; i++) {
    const o = at[i]!;
    dv.setInt32(o, 8);
    dv.setFloat64(o + 4, data[i]!);
    at[i] = o + 12;
  }
}

/** NaN and ±Infinity are written as NULL. */
function putFloat8Null(dv: DataView, at: Int32Array, data: Float64Array, rows: number): void {
  for (let i = 0; i < rows; i++) {
    const o = at[i]!;
    const v = data[i]!;
    if (v - v !== 0) {
      dv.setInt32(o, -1);
      at[i] = o + 4;
    } else {
      dv.setInt32(o, 8);
      dv.setFloat64(o + 4, v);
      at[i] = o + 12;
    }
  }
}

function putBytea(buf: Buffer, dv: DataView, at: Int32Array, data: ArrayLike<Uint8Array>, rows: number): void {
  for (let i = 0; i < rows; i++) {
    const o = at[i]!;
    const b = data[i]!;
    dv.setInt32(o, b.byteLength);
    buf.set(b, o + 4);
    at[i] = o + 4 + b.byteLength;
  }
}

function putFloat8Bytes(dv: DataView, at: Int32Array, data: Float64Array, froms: Int32Array, counts: Int32Array, rows: number): void {
  for (let i = 0; i < rows; i++) {
    const from = froms[i]!;
    const n = counts[i]!;
    let o = at[i]!;
    dv.setInt32(o, 8 * n);
    o += 4;
    for (let j = 0; j < n; j++) dv.setFloat64(o + 8 * j, data[from + j]!);
    at[i] = o + 8 * n;
  }
}

/** array_send's layout: ndim, has-nulls flag, element type, then (size, lower bound) per dimension. */
const ARRAY_HEADER_BYTES = 20;
const FLOAT8_OID = 701;

function putFloat8Array(dv: DataView, at: Int32Array, data: Float64Array, pos: ArrayLike<number>, rowStart: Int32Array, rows: number): void {
  for (let r = 0; r < rows; r++) {
    const from = rowStart[r]!;
    const to = rowStart[r + 1]!;
    const len = to > from ? pos[to - 1]! + 1 : 0;
    let o = at[r]!;
    dv.setInt32(o, ARRAY_HEADER_BYTES + 12 * (to - from) + 4 * (len - (to - from)));
    dv.setInt32(o + 4, 1);
    dv.setInt32(o + 8, len > to - from ? 1 : 0);
    dv.setInt32(o + 12, FLOAT8_OID);
    dv.setInt32(o + 16, len);
    dv.setInt32(o + 20, 1);
    o += 4 + ARRAY_HEADER_BYTES;
    let next = 0;
    for (let i = from; i < to; i++) {
      const p = pos[i]!;
      for (; next < p; next++, o += 4) dv.setInt32(o, -1);
      dv.setInt32(o, 8);
      dv.setFloat64(o + 4, data[i]!);
      o += 12;
      next = p + 1;
    }
    at[r] = o;
  }
}

function shiftForFloat8Array(start: Int32Array, pos: ArrayLike<number>, rowStart: Int32Array, rows: number): number {
  let shift = 0;
  for (let r = 0; r < rows; r++) {
    start[r] = start[r]! + shift;
    const from = rowStart[r]!;
    const to = rowStart[r + 1]!;
    const len = to > from ? pos[to - 1]! + 1 : 0;
    shift += 4 + ARRAY_HEADER_BYTES + 12 * (to - from) + 4 * (len - (to - from));
  }
  return shift;
}

function shiftForFloat8Bytes(start: Int32Array, counts: Int32Array, rows: number): number {
  let shift = 0;
  for (let i = 0; i < rows; i++) {
    start[i] = start[i]! + shift;
    shift += 4 + 8 * counts[i]!;
  }
  return shift;
}

/** Shifts row starts by the extra bytes of a nullable float column (a NULL field is 4 bytes, a value 12). */
function shiftForFloat8Null(start: Int32Array, data: Float64Array, rows: number): number {
  let shift = 0;
  for (let i = 0; i < rows; i++) {
    start[i] = start[i]! + shift;
    const v = data[i]!;
    shift += v - v !== 0 ? 4 : 12;
  }
  return shift;
}

function shiftForBytea(start: Int32Array, data: ArrayLike<Uint8Array>, rows: number): number {
  let shift = 0;
  for (let i = 0; i < rows; i++) {
    start[i] = start[i]! + shift;
    shift += 4 + data[i]!.byteLength;
  }
  return shift;
}

/** Row starts, reused across calls (encoding is synchronous; fresh memory is costly to touch). */
let startScratch = new Int32Array(0);

type Prepared =
  | { type: "bytea"; data: ArrayLike<Uint8Array> }
  | { type: "float8bytes"; data: Float64Array; from: Int32Array; count: Int32Array }
  | { type: "float8array"; data: Float64Array; pos: ArrayLike<number>; rowStart: Int32Array }
  | { type: Exclude<BinaryColumn["type"], Variable>; data: Float64Array };

/** Encodes `rows` rows of the given columns as one binary COPY payload (header to trailer). */
export function encodeBinaryCopy(rows: number, cols: BinaryColumn[]): Buffer {
  const prepared: Prepared[] = cols.map((c) => (c.type === "bytea" || c.type === "float8bytes" || c.type === "float8array" ? c : { type: c.type, data: float64Of(c.data) }));
  for (const c of prepared) {
    if (c.type !== "float8bytes") continue;
    if (c.from.length < rows || c.count.length < rows) throw new Error("float8bytes: from and count need an entry per row");
    for (let i = 0; i < rows; i++) if (!(c.count[i]! >= 0 && c.from[i]! >= 0 && c.from[i]! + c.count[i]! <= c.data.length)) throw new Error(`float8bytes: row ${i} is outside the data`);
  }
  for (const c of prepared) {
    if (c.type !== "float8array") continue;
    if (c.rowStart.length < rows + 1 || c.rowStart[0]! < 0 || c.rowStart[rows]! > c.data.length || c.rowStart[rows]! > c.pos.length) throw new Error("float8array: rowStart needs rows + 1 entries within the data");
    for (let r = 0; r < rows; r++) {
      let last = -1;
      for (let i = c.rowStart[r]!; i < c.rowStart[r + 1]!; i++) {
        const p = c.pos[i]!;
        if (!(Number.isInteger(p) && p > last)) throw new Error(`float8array: row ${r}'s positions must be ascending integers ≥ 0`);
        last = p;
      }
    }
  }
  // Row i starts at start[i]: fixed-width fields, plus the variable ones (bytea, NULL floats).
  if (startScratch.length < rows + 1) startScratch = new Int32Array(Math.max(rows + 1, 2 * startScratch.length));
  const start = startScratch;
  let fixed = 2;
  for (const c of prepared) if (c.type !== "bytea" && c.type !== "float8null" && c.type !== "float8bytes" && c.type !== "float8array") fixed += fieldBytes(c.type);
  let o = HEADER_BYTES;
  for (let i = 0; i <= rows; i++) {
    start[i] = o;
    o += fixed;
  }
  for (const c of prepared) {
    if (c.type === "bytea") start[rows] = start[rows]! + shiftForBytea(start, c.data, rows);
    else if (c.type === "float8bytes") start[rows] = start[rows]! + shiftForFloat8Bytes(start, c.count, rows);
    else if (c.type === "float8array") start[rows] = start[rows]! + shiftForFloat8Array(start, c.pos, c.rowStart, rows);
    else if (c.type === "float8null") start[rows] = start[rows]! + shiftForFloat8Null(start, c.data, rows);
  }
  const end = start[rows]!;
  const buf = Buffer.allocUnsafe(end + 2);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  SIGNATURE.copy(buf, 0);
  dv.setInt32(SIGNATURE.length, 0); // flags
  dv.setInt32(SIGNATURE.length + 4, 0); // header extension length
  const at = start.subarray(0, rows);
  const n = cols.length;
  for (let i = 0; i < rows; i++) {
    dv.setInt16(at[i]!, n);
    at[i] = at[i]! + 2;
  }
  for (const c of prepared) {
    switch (c.type) {
      case "int4":
        putInt4(dv, at, c.data, rows);
        break;
      case "int8":
        putInt8(dv, at, c.data, rows, false);
        break;
      case "timestamptz":
        putInt8(dv, at, c.data, rows, true);
        break;
      case "float8":
        putFloat8(dv, at, c.data, rows);
        break;
      case "float8null":
        putFloat8Null(dv, at, c.data, rows);
        break;
      case "bytea":
        putBytea(buf, dv, at, c.data, rows);
        break;
      case "float8bytes":
        putFloat8Bytes(dv, at, c.data, c.from, c.count, rows);
        break;
      case "float8array":
        putFloat8Array(dv, at, c.data, c.pos, c.rowStart, rows);
        break;
    }
  }
  dv.setInt16(end, -1);
  return buf;
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
      if (len !== (types[k] === "int4" ? 4 : 8)) throw new Error(`binary COPY field ${k} has ${len} bytes, not a ${types[k]}`);
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
