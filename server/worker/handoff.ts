import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import type { z } from "zod";
import type { CommittedBatch, NewSampleColumns } from "../repos/storage/columns";
import { readWorkerStatus } from "../repos/worker-status-repo";
import { ZWorkerCommand, type TWorkerCommand } from "../services/commands/worker-commands";
import { PROBE_PATH, ZProbeRequest, type TProbeRequest, type TProbeResult } from "../services/detect/probe-wire";
import type { CommitSink } from "../services/ingest/group-commit";

/**
 * The commit hand-off, end to end: the web process's commit sink posts each committed batch
 * (`CommittedBatch`) as one binary body over loopback HTTP (`createHandoffClient`); the worker's
 * endpoint (`startHandoffServer`) decodes it into the worker's queue (`HandoffQueue`), which
 * the detect pipeline reads and which wakes its job. A shortcut, never the record: the pipeline takes a
 * batch only when it starts exactly at its cursor and otherwise reads the database, so a lost,
 * late or duplicated batch changes nothing but speed. The same endpoint also serves web → worker
 * commands and the real-time detect API's probes.
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

/** The wire format: firstSeq, sample and row counts, then the columns tsMs, values, streamIds, rowStart. */
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

const ENDPOINT_CACHE_MS = 5_000;

/** The endpoint of the one live worker on this host, from `worker_status` (null otherwise). */
export async function liveHandoffEndpoint(): Promise<HandoffEndpoint | null> {
  const workers = await readWorkerStatus();
  const live = workers.filter((w) => Date.now() - w.heartbeatAtMs < 30_000);
  // one worker scores everything; with several (unusual), or one on another machine (the
  // endpoint is loopback-only), the hand-off is skipped
  if (live.length !== 1 || live[0]!.info.host !== os.hostname()) return null;
  const h = live[0]!.info.handoff as Partial<HandoffEndpoint> | undefined;
  return h && typeof h.port === "number" && typeof h.secret === "string" ? { port: h.port, secret: h.secret } : null;
}

export interface HandoffClient {
  sink: CommitSink;
  /** Posts a web → worker command; resolves when the worker has taken it (rejects otherwise). */
  command(cmd: TWorkerCommand): Promise<void>;
  close(): void;
}

/**
 * The web process's side: a commit sink that posts each committed batch to the worker's loopback
 * endpoint, found through the worker's heartbeat. Best effort by design: when no single live
 * worker on this host publishes an endpoint, or a post fails, the batch is dropped and the
 * worker reads the samples from the database.
 */
export function createHandoffClient(findEndpoint: () => Promise<HandoffEndpoint | null> = liveHandoffEndpoint): HandoffClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let endpoint: { atMs: number; value: Promise<HandoffEndpoint | null> } | undefined;

  const lookup = (): Promise<HandoffEndpoint | null> => {
    const now = Date.now();
    if (!endpoint || now - endpoint.atMs > ENDPOINT_CACHE_MS) {
      endpoint = { atMs: now, value: findEndpoint().catch(() => null) };
    }
    return endpoint.value;
  };

  const command = async (cmd: TWorkerCommand): Promise<void> => {
    const ep = await lookup();
    if (!ep) throw new Error("no live worker on this host");
    const body = Buffer.from(JSON.stringify(cmd));
    await new Promise<void>((resolve, reject) => {
      const req = http.request({
        host: "127.0.0.1",
        port: ep.port,
        path: COMMAND_PATH,
        method: "POST",
        agent,
        timeout: 2_000,
        headers: { "content-type": "application/json", "content-length": body.length, authorization: `Bearer ${ep.secret}` },
      });
      req.on("response", (res) => {
        res.resume();
        if (res.statusCode === 204) resolve();
        else reject(new Error(`worker answered ${res.statusCode}`));
      });
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", (e) => {
        endpoint = undefined;
        reject(e);
      });
      req.end(body);
    });
  };

  const sink = (batch: CommittedBatch): void => {
    if (batch.streamIds.length === 0) return;
    void lookup().then((ep) => {
      if (!ep) return;
      const body = encodeBatch(batch);
      const req = http.request({
        host: "127.0.0.1",
        port: ep.port,
        path: HANDOFF_PATH,
        method: "POST",
        agent,
        timeout: 2_000,
        headers: { "content-type": "application/octet-stream", "content-length": body.length, authorization: `Bearer ${ep.secret}` },
      });
      req.on("response", (res) => res.resume());
      req.on("timeout", () => req.destroy());
      req.on("error", () => {
        endpoint = undefined; // look the worker up again (it may have restarted on another port)
      });
      req.end(body);
    });
  };
  return { sink, command, close: () => agent.destroy() };
}

/** Largest probe body accepted (1,000 streams as JSON are ~40 kB). */
const MAX_PROBE_BODY = 1024 * 1024;

/** Largest hand-off body accepted (a 250k-sample group commit is 5 MB). */
const MAX_BODY = 8 * 1024 * 1024;

/**
 * The worker's loopback endpoint for commit hand-offs from the web process (see
 * `createHandoffClient`). Bound to 127.0.0.1 on a free port and guarded by a per-start secret,
 * both published only through the database (the worker's heartbeat).
 */
export async function startHandoffServer(
  accept: (batch: CommittedBatch) => void,
  probe: (req: TProbeRequest) => TProbeResult[] = () => [],
  command: (cmd: TWorkerCommand) => void = () => undefined,
): Promise<{ endpoint: HandoffEndpoint; close(): Promise<void> }> {
  const secret = newHandoffSecret();
  const expected = Buffer.from(`Bearer ${secret}`);
  const server = http.createServer((req, res) => {
    const auth = Buffer.from(req.headers.authorization ?? "");
    if (req.method !== "POST" || (req.url !== HANDOFF_PATH && req.url !== PROBE_PATH && req.url !== COMMAND_PATH) || auth.length !== expected.length || !crypto.timingSafeEqual(auth, expected)) {
      res.writeHead(404).end();
      req.resume();
      return;
    }
    if (req.url === PROBE_PATH) {
      serveProbe(req, res, probe);
      return;
    }
    if (req.url === COMMAND_PATH) {
      serveCommand(req, res, command);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      const batch = decodeBatch(Buffer.concat(chunks));
      if (batch) accept(batch);
      res.writeHead(batch ? 204 : 400).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: { port, secret },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Reads a small JSON body (413 beyond `maxBytes`) and checks it with `schema`: 400 when it is not
 * JSON or not valid, else `onValid` answers.
 */
function serveJson<T>(req: http.IncomingMessage, res: http.ServerResponse, maxBytes: number, schema: z.ZodType<T>, onValid: (data: T) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (c: Buffer) => {
    size += c.length;
    if (size > maxBytes) {
      res.writeHead(413).end();
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on("end", () => {
    let parsed;
    try {
      parsed = schema.safeParse(JSON.parse(Buffer.concat(chunks).toString("utf8")));
    } catch {
      parsed = null;
    }
    if (!parsed?.success) {
      res.writeHead(400).end();
      return;
    }
    onValid(parsed.data);
  });
}

/** Side-effect-free scoring for the web process's real-time detect API (JSON in, JSON out). */
function serveProbe(req: http.IncomingMessage, res: http.ServerResponse, probe: (req: TProbeRequest) => TProbeResult[]): void {
  serveJson(req, res, MAX_PROBE_BODY, ZProbeRequest, (data) => {
    if (data.ids.length !== data.values.length) {
      res.writeHead(400).end();
      return;
    }
    try {
      const body = JSON.stringify({ results: probe(data) });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
    } catch (e) {
      res.writeHead(500, { "content-type": "text/plain" }).end((e as Error).message);
    }
  });
}

/** Largest command body accepted (a command is a few bytes of JSON). */
const MAX_COMMAND_BODY = 4 * 1024;

/** A web → worker command: 204 once handed to the worker, 400 when it is not one. */
function serveCommand(req: http.IncomingMessage, res: http.ServerResponse, command: (cmd: TWorkerCommand) => void): void {
  serveJson(req, res, MAX_COMMAND_BODY, ZWorkerCommand, (cmd) => {
    command(cmd);
    res.writeHead(204).end();
  });
}

/** Samples held at most (beyond it the oldest batches are dropped: the database has them). */
const MAX_HELD = 1_000_000;

/**
 * Committed batches waiting for the pipeline, by seq. `take(cursor)` returns the samples right
 * after the cursor only when held batches cover them without a hole; anything else (a batch
 * lost, a commit by another process, a rolled-back seq range) returns null and the pipeline
 * reads the database, which is always correct. `onOffer` wakes the reader (the worker's detect
 * job) so that it scores a batch now rather than at its next tick.
 */
export class HandoffQueue {
  private batches: CommittedBatch[] = [];
  private held = 0;
  private lastOfferMs = -Infinity;
  hits = 0;
  misses = 0;
  /** `take`'s seq column: reused (fresh memory is costly to touch), valid until the next take. */
  private seqScratch = new Float64Array(0);

  constructor(private readonly onOffer: () => void = () => undefined) {}

  offer(b: CommittedBatch, nowMs = Date.now()): void {
    this.lastOfferMs = nowMs;
    const i = this.batches.findIndex((x) => x.firstSeq > b.firstSeq);
    if (i < 0) this.batches.push(b);
    else this.batches.splice(i, 0, b);
    this.held += b.streamIds.length;
    while (this.held > MAX_HELD && this.batches.length) this.held -= this.batches.shift()!.streamIds.length;
    this.onOffer();
  }

  /** seq of the first held batch (after `take` dropped what the cursor passed), or null. */
  firstHeldSeq(): number | null {
    return this.batches[0]?.firstSeq ?? null;
  }

  /** Whether batches have been arriving lately (then an empty queue means "nothing new yet"). */
  active(nowMs = Date.now(), withinMs = 1_000): boolean {
    return nowMs - this.lastOfferMs < withinMs;
  }

  /**
   * The samples of the block rows right after `cursor`: whole rows, about `limit` samples (at
   * least one row). Views of held batches when one batch covers them; `seq` (each sample's row
   * seq) is valid until the next take.
   */
  take(cursor: number, limit: number): NewSampleColumns | null {
    // forget what the cursor has passed
    while (this.batches.length && lastSeqOf(this.batches[0]!) <= cursor) {
      this.held -= this.batches.shift()!.streamIds.length;
    }
    const parts: { b: CommittedBatch; fromRow: number; toRow: number }[] = [];
    let next = cursor + 1;
    let samples = 0;
    for (const b of this.batches) {
      if (samples >= limit || b.firstSeq > next) break;
      const fromRow = next - b.firstSeq; // ≥ 0: batches may overlap what an earlier read covered
      const rows = b.rowStart.length - 1;
      const base = b.rowStart[fromRow]!;
      let toRow = fromRow;
      // whole rows up to the limit, and at least one row in all
      while (toRow < rows && (samples + b.rowStart[toRow + 1]! - base <= limit || (samples === 0 && toRow === fromRow))) toRow++;
      if (toRow <= fromRow) continue;
      parts.push({ b, fromRow, toRow });
      samples += b.rowStart[toRow]! - b.rowStart[fromRow]!;
      next = b.firstSeq + toRow;
    }
    if (samples === 0) {
      if (this.batches.length) this.misses++;
      return null;
    }
    this.hits++;
    if (this.seqScratch.length < samples) this.seqScratch = new Float64Array(Math.max(samples, 2 * this.seqScratch.length));
    const seq = this.seqScratch.subarray(0, samples);
    let o = 0;
    for (const { b, fromRow, toRow } of parts) {
      for (let r = fromRow; r < toRow; r++) {
        const q = b.firstSeq + r;
        for (let i = b.rowStart[r]!; i < b.rowStart[r + 1]!; i++) seq[o++] = q;
      }
    }
    if (parts.length === 1) {
      // the usual case (one batch per round): views, not copies (held batches are never modified)
      const { b, fromRow, toRow } = parts[0]!;
      const from = b.rowStart[fromRow]!;
      const to = b.rowStart[toRow]!;
      return { rows: samples, lastSeq: next - 1, seq, streamIds: b.streamIds.subarray(from, to), tsMs: b.tsMs.subarray(from, to), values: b.values.subarray(from, to) };
    }
    const out: NewSampleColumns = { rows: samples, lastSeq: next - 1, seq, streamIds: new Int32Array(samples), tsMs: new Float64Array(samples), values: new Float64Array(samples) };
    o = 0;
    for (const { b, fromRow, toRow } of parts) {
      const from = b.rowStart[fromRow]!;
      const to = b.rowStart[toRow]!;
      out.streamIds.set(b.streamIds.subarray(from, to), o);
      out.tsMs.set(b.tsMs.subarray(from, to), o);
      out.values.set(b.values.subarray(from, to), o);
      o += to - from;
    }
    return out;
  }
}

const lastSeqOf = (b: CommittedBatch) => b.firstSeq + b.rowStart.length - 2;
