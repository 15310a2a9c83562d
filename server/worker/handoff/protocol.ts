import crypto from "node:crypto";
import os from "node:os";
import type { CommittedBatch } from "@/lib/ingest/committed-batch";

/**
 * The hand-off's wire format: a committed batch (lib/ingest/committed-batch.ts) travels from the
 * web process to the worker as one binary body over loopback HTTP (client.ts → server.ts).
 */

/** Where a worker accepts hand-offs; published in its heartbeat (`worker_status.info.handoff`). */
export interface HandoffEndpoint {
  port: number;
  secret: string;
}

export const HANDOFF_PATH = "/committed";
/** Web → worker commands (server/services/commands/worker-commands.ts), as JSON. */
export const COMMAND_PATH = "/command";
const HEADER_BYTES = 16; // firstSeq float64 + samples uint32 + rows uint32

export function newHandoffSecret(): string {
  return crypto.randomBytes(24).toString("hex");
}

export function encodeBatch(b: CommittedBatch): Buffer {
  const n = b.streamIds.length;
  const rows = b.rowStart.length - 1;
  const buf = Buffer.allocUnsafe(HEADER_BYTES + n * 20 + (rows + 1) * 4);
  buf.writeDoubleLE(b.firstSeq, 0);
  buf.writeUInt32LE(n, 8);
  buf.writeUInt32LE(rows, 12);
  let o = HEADER_BYTES;
  o += Buffer.from(b.tsMs.buffer, b.tsMs.byteOffset, n * 8).copy(buf, o);
  o += Buffer.from(b.values.buffer, b.values.byteOffset, n * 8).copy(buf, o);
  o += Buffer.from(b.streamIds.buffer, b.streamIds.byteOffset, n * 4).copy(buf, o);
  Buffer.from(b.rowStart.buffer, b.rowStart.byteOffset, (rows + 1) * 4).copy(buf, o);
  return buf;
}

/**
 * Parses a hand-off body; null when it is not a well-formed batch. The batch's arrays view
 * `buf`'s memory when it is 8-byte aligned (a body read into a fresh buffer, the usual case), so
 * the caller must not reuse `buf`; otherwise they are copied.
 */
export function decodeBatch(buf: Buffer): CommittedBatch | null {
  if (buf.length < HEADER_BYTES) return null;
  const firstSeq = buf.readDoubleLE(0);
  const n = buf.readUInt32LE(8);
  const rows = buf.readUInt32LE(12);
  if (!Number.isSafeInteger(firstSeq) || firstSeq < 1 || buf.length !== HEADER_BYTES + n * 20 + (rows + 1) * 4) return null;
  let mem = buf.buffer;
  let at = buf.byteOffset + HEADER_BYTES;
  if (at % 8 !== 0 || os.endianness() !== "LE") {
    // copy into aligned arrays (a Buffer's offset need not be a multiple of 8)
    const body = new Uint8Array(buf.length - HEADER_BYTES);
    body.set(buf.subarray(HEADER_BYTES));
    mem = body.buffer;
    at = 0;
  }
  const rowStart = new Int32Array(mem, at + n * 20, rows + 1);
  if (rowStart[0] !== 0 || rowStart[rows] !== n) return null;
  for (let r = 0; r < rows; r++) if (!(rowStart[r]! < rowStart[r + 1]!)) return null;
  return {
    firstSeq,
    rowStart,
    tsMs: new Float64Array(mem, at, n),
    values: new Float64Array(mem, at + n * 8, n),
    streamIds: new Int32Array(mem, at + n * 16, n),
  };
}
