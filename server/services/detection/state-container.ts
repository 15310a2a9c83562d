/**
 * The binary container of a saved detector state (what `EngineAdapter.serialize` writes and a
 * snapshot's gzip holds): the state's small parts in V8's structured serialisation, its
 * per-stream columns (every Float64Array in it) as raw little-endian sections behind them.
 *
 * Why: the columns are nearly all of a state (~12 KB a stream). As base64 text inside one V8
 * serialisation they cost a base64 pass, a 4/3 larger buffer and a copy per string on the event
 * loop (62,500 streams held it ~11 s); here saving is one copy of each column into a buffer of
 * the exact size, and restoring reads each column in place.
 *
 * Layout (offsets in bytes, numbers little-endian):
 *   0   magic "OMNSTAT1" (8 bytes; a V8 serialisation starts with 0xFF, a JSON text with `{`)
 *   8   u32  E: length of the envelope
 *   12  u32  C: number of columns
 *   16  C × f64: each column's length in doubles
 *   16 + 8C       the envelope: V8 serialisation of the state, each column written as its
 *                 index (a host object), everything else (options, ids, events, −Infinity
 *                 clocks) as V8 writes it
 *   then padding to a multiple of 8, and the columns back to back in index order (each a
 *   multiple of 8 bytes long, so every column starts 8-aligned: read as a view, no copy, when
 *   the buffer itself is aligned)
 *
 * A column written here comes back as a Float64Array view of the buffer; the restoring code
 * copies it into its own arrays (`SoA.load`), so the buffer can be dropped afterwards.
 *
 * The copy of the columns is nearly all of the work (at ~12 KB a stream, most of it the kernel
 * handing out the new buffer's pages): `packStateSliced` does it in slices with the event loop
 * free between them, for a caller that can keep the columns unchanged meanwhile.
 */
import v8 from "node:v8";

const MAGIC = new TextEncoder().encode("OMNSTAT1");
const HEADER = 16;

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Writes each Float64Array as its column index and keeps it for the sections. (Node's default
 * serializer treats typed arrays as host objects and calls `_writeHostObject` for each.)
 */
class ColumnSerializer extends v8.DefaultSerializer {
  readonly columns: Float64Array[] = [];

  _writeHostObject(o: object): void {
    if (!(o instanceof Float64Array)) throw new Error(`state container: cannot write ${Object.prototype.toString.call(o)} (only Float64Array columns)`);
    this.writeUint32(this.columns.length);
    this.columns.push(o);
  }
}

/** Reads column indices back as views of the sections. */
class ColumnDeserializer extends v8.DefaultDeserializer {
  constructor(
    envelope: Uint8Array,
    private readonly columns: Float64Array[],
  ) {
    super(envelope);
  }

  _readHostObject(): Float64Array {
    const i = this.readUint32();
    const c = this.columns[i];
    if (!c) throw new Error(`state container: column ${i} does not exist`);
    return c;
  }
}

const align8 = (n: number) => (n + 7) & ~7;

/** `state` (plain data with Float64Array columns) in the container. Copies every column once. */
export function packState(state: unknown): Uint8Array {
  const p = layout(state);
  for (const c of p.cols) p.copy(c, 0, c.length);
  return p.out;
}

/** Bytes of columns copied between two yields of `packStateSliced`. */
const SLICE_BYTES = 8 << 20;

/**
 * `packState`, copying the columns in slices of at most `sliceBytes` with the event loop free
 * between them (`setImmediate`). The state's small parts are written at once; its columns must
 * not change until the promise resolves.
 */
export async function packStateSliced(state: unknown, sliceBytes = SLICE_BYTES): Promise<Uint8Array> {
  const p = layout(state);
  const step = Math.max(1, Math.floor(sliceBytes / 8));
  let since = 0;
  for (const c of p.cols) {
    for (let from = 0; from < c.length; from += step) {
      const to = Math.min(c.length, from + step);
      p.copy(c, from, to);
      since += to - from;
      if (since >= step) {
        since = 0;
        await new Promise((r) => setImmediate(r));
      }
    }
  }
  return p.out;
}

interface Layout {
  out: Uint8Array;
  cols: Float64Array[];
  /** copies doubles [from, to) of column `c` to its section */
  copy(c: Float64Array, from: number, to: number): void;
}

/** The container's buffer with header and envelope written, and where each column goes. */
function layout(state: unknown): Layout {
  if (!littleEndian) throw new Error("big-endian platforms are not supported by the state container");
  const ser = new ColumnSerializer();
  ser.writeHeader();
  ser.writeValue(state);
  const envelope = ser.releaseBuffer();
  const cols = ser.columns;
  const start = align8(HEADER + 8 * cols.length + envelope.length);
  let total = start;
  for (const c of cols) total += c.byteLength;
  // not zeroed: every byte but the padding is written below
  const out = Buffer.allocUnsafeSlow(total);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(8, envelope.length, true);
  view.setUint32(12, cols.length, true);
  cols.forEach((c, i) => view.setFloat64(HEADER + 8 * i, c.length, true));
  out.set(envelope, HEADER + 8 * cols.length);
  out.fill(0, HEADER + 8 * cols.length + envelope.length, start);
  const at = new Map<Float64Array, number>();
  let o = start;
  for (const c of cols) {
    at.set(c, o);
    o += c.byteLength;
  }
  const copy = (c: Float64Array, from: number, to: number) => out.set(new Uint8Array(c.buffer, c.byteOffset + 8 * from, 8 * (to - from)), at.get(c)! + 8 * from);
  return { out, cols, copy };
}

export function isPackedState(bytes: Uint8Array): boolean {
  return bytes.length >= HEADER && MAGIC.every((b, i) => bytes[i] === b);
}

/** The state `packState` wrote; its columns are views of `bytes` (copies when `bytes` is not 8-aligned). */
export function unpackState(bytes: Uint8Array): unknown {
  if (!isPackedState(bytes)) throw new Error("state container: not a packed state");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const envLength = view.getUint32(8, true);
  const count = view.getUint32(12, true);
  const envFrom = HEADER + 8 * count;
  if (envFrom + envLength > bytes.length) throw new Error("state container: truncated envelope");
  const columns: Float64Array[] = [];
  let o = align8(envFrom + envLength);
  const aligned = (bytes.byteOffset & 7) === 0;
  for (let i = 0; i < count; i++) {
    const n = view.getFloat64(HEADER + 8 * i, true);
    if (!Number.isInteger(n) || n < 0 || o + 8 * n > bytes.length) throw new Error("state container: truncated column");
    columns.push(aligned ? new Float64Array(bytes.buffer, bytes.byteOffset + o, n) : new Float64Array(bytes.slice(o, o + 8 * n).buffer));
    o += 8 * n;
  }
  const des = new ColumnDeserializer(bytes.subarray(envFrom, envFrom + envLength), columns);
  des.readHeader();
  return des.readValue();
}
