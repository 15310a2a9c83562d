import crypto from "node:crypto";
import http from "node:http";
import os from "node:os";
import { processGlobal } from "../../process-global";
import { readWorkerStatus } from "../../repos/worker-status-repo";

/**
 * Commit hand-off: a batch of samples that has just been committed with contiguous `seq`
 * values is offered to the detection worker, so that the worker scores it from memory instead
 * of reading back from the database what ingest has just written (on the ingest hot path the
 * read-back cost as much as the insert). It is only ever a shortcut: the worker takes a batch
 * only when it starts exactly at its cursor, and otherwise reads the database as always, so a
 * lost, late or duplicated hand-off changes nothing but speed.
 */
export interface CommittedBatch {
  /** seq of the first block row; row r has seq firstSeq + r */
  firstSeq: number;
  /** rows + 1 entries: row r's samples are rowStart[r] … rowStart[r + 1] - 1 */
  rowStart: Int32Array;
  streamIds: Int32Array;
  tsMs: Float64Array;
  values: Float64Array;
}

/** The batch of what a commit wrote (samples-repo's block rows). */
export function committedBatch(c: { firstSeq: number; rows: { rowStart: Int32Array; streamIds: Int32Array; tsMs: Float64Array; values: Float64Array } }): CommittedBatch {
  const { rowStart, streamIds, tsMs, values } = c.rows;
  return { firstSeq: c.firstSeq, rowStart, streamIds, tsMs, values };
}

type Sink = (batch: CommittedBatch) => void;

// Once per process (the web process loads this module twice: Next's copy and the custom server's).
const state = processGlobal("commit-handoff", () => ({
  /** In the worker process: batches go straight to the pipeline (host collector, imports). */
  localSink: null as Sink | null,
  /** loopback connections to the worker's hand-off endpoint */
  agent: new http.Agent({ keepAlive: true, maxSockets: 4 }),
  endpoint: undefined as { atMs: number; value: Promise<HandoffEndpoint | null> } | undefined,
}));

export function setLocalCommitSink(sink: Sink | null): void {
  state.localSink = sink;
}

/** Called by ingest after a commit that reserved `firstSeq…` for its block rows. */
export function offerCommitted(batch: CommittedBatch): void {
  if (batch.streamIds.length === 0) return;
  try {
    if (state.localSink) state.localSink(batch);
    else forwardToWorker(batch);
  } catch (e) {
    // best effort: the samples are committed, and the worker reads them from the database
    console.error(`commit hand-off failed: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------- wire format (loopback HTTP)

/** Where a worker accepts hand-offs; published in its heartbeat (`worker_status.info.handoff`). */
export interface HandoffEndpoint {
  port: number;
  secret: string;
}

export const HANDOFF_PATH = "/committed";
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

// ---------------------------------------------------------------- forwarding (web process)

const ENDPOINT_CACHE_MS = 5_000;

/** The live worker's loopback endpoint (cached for a few seconds), or null when none is reachable. */
export function workerEndpoint(): Promise<HandoffEndpoint | null> {
  const now = Date.now();
  if (!state.endpoint || now - state.endpoint.atMs > ENDPOINT_CACHE_MS) {
    state.endpoint = { atMs: now, value: liveEndpoint().catch(() => null) };
  }
  return state.endpoint.value;
}

/** Forget the cached endpoint (a request to it failed: the worker may have restarted). */
export function forgetWorkerEndpoint(): void {
  state.endpoint = undefined;
}

async function liveEndpoint(): Promise<HandoffEndpoint | null> {
  const workers = await readWorkerStatus();
  const live = workers.filter((w) => Date.now() - w.heartbeatAtMs < 30_000);
  // one worker scores everything; with several (unusual), or one on another machine (the
  // endpoint is loopback-only), the hand-off is skipped
  if (live.length !== 1 || live[0]!.info.host !== os.hostname()) return null;
  const h = live[0]!.info.handoff as Partial<HandoffEndpoint> | undefined;
  return h && typeof h.port === "number" && typeof h.secret === "string" ? { port: h.port, secret: h.secret } : null;
}

function forwardToWorker(batch: CommittedBatch): void {
  void workerEndpoint().then((ep) => {
    if (!ep) return;
    const body = encodeBatch(batch);
    const req = http.request({
      host: "127.0.0.1",
      port: ep.port,
      path: HANDOFF_PATH,
      method: "POST",
      agent: state.agent,
      timeout: 2_000,
      headers: { "content-type": "application/octet-stream", "content-length": body.length, authorization: `Bearer ${ep.secret}` },
    });
    // best effort by design: the worker reads the database when a batch does not arrive
    req.on("response", (res) => res.resume());
    req.on("timeout", () => req.destroy());
    req.on("error", () => {
      state.endpoint = undefined;
    });
    req.end(body);
  });
}
