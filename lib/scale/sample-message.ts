/**
 * The body of one message of the JetStream sample log: one partition's share of a committed
 * batch, column-wise. Layout (little-endian): "OS1\0", sample count n (uint32), then n int32
 * stream ids, n float64 timestamps (ms), n float64 values.
 */
export interface PartitionSamples {
  streamIds: Int32Array;
  tsMs: Float64Array;
  values: Float64Array;
}

const MAGIC = 0x0031534f; // "OS1\0"
const HEADER = 8;
/** Largest message body we write (NATS' default max_payload is 1 MB). */
export const MAX_SAMPLES_PER_MESSAGE = Math.floor((1024 * 1024 - HEADER) / 20);

export function encodeSamples(s: PartitionSamples): Uint8Array {
  const n = s.streamIds.length;
  const buf = new ArrayBuffer(HEADER + n * 20);
  const dv = new DataView(buf);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, n, true);
  // float64 columns first (8-byte aligned at offset 8), then the int32 ids
  new Float64Array(buf, HEADER, n).set(s.tsMs);
  new Float64Array(buf, HEADER + n * 8, n).set(s.values);
  new Int32Array(buf, HEADER + n * 16, n).set(s.streamIds);
  return new Uint8Array(buf);
}

/** Decodes a message body; null when it is not one (wrong magic or length). */
export function decodeSamples(body: Uint8Array): PartitionSamples | null {
  if (body.byteLength < HEADER) return null;
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) return null;
  const n = dv.getUint32(4, true);
  if (body.byteLength !== HEADER + n * 20) return null;
  // copy into an aligned buffer of its own (a received message may be a view at any offset
  // into a larger buffer; a Node Buffer's slice() would not copy)
  const own = new Uint8Array(body.byteLength);
  own.set(body);
  const buf = own.buffer;
  return {
    tsMs: new Float64Array(buf, HEADER, n),
    values: new Float64Array(buf, HEADER + n * 8, n),
    streamIds: new Int32Array(buf, HEADER + n * 16, n),
  };
}
