import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { z } from "zod";
import type { CommittedBatch } from "@/lib/ingest/committed-batch";
import { ZWorkerCommand, type TWorkerCommand } from "../../services/commands/worker-commands";
import { COMMAND_PATH, decodeBatch, HANDOFF_PATH, newHandoffSecret, type HandoffEndpoint } from "./protocol";
import { PROBE_PATH, ZProbeRequest, type TProbeRequest, type TProbeResult } from "../../services/detect/probe-wire";

/** Largest probe body accepted (1,000 streams as JSON are ~40 kB). */
const MAX_PROBE_BODY = 1024 * 1024;

/** Largest hand-off body accepted (a 250k-sample group commit is 5 MB). */
const MAX_BODY = 8 * 1024 * 1024;

/**
 * The worker's loopback endpoint for commit hand-offs from the web process (see
 * client.ts). Bound to 127.0.0.1 on a free port and guarded by a per-start secret,
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
