import http from "node:http";
import type { AddressInfo } from "node:net";
import next from "next";
import { healthReply } from "../http/health-handler";
import { otlpMetrics, remoteWrite } from "../http/ingest-handlers";
import { detectApi } from "../http/detect-handler";
import { checkDeclaredLength, payloadTooLarge, type IngestRequest } from "../http/ingest-request";
import { sendReply, type Reply } from "../http/reply";
import { CLIENT_IP_HEADER } from "../services/auth/auth-constants";
import { guardRequest } from "../services/auth/request-guard";
import { startIdleGc } from "./idle-gc";

/**
 * The web process's HTTP server: the two hot write endpoints are answered by plain Node
 * handlers, everything else by Next. Next's own request handling (routing, the app-route
 * module, Request/Response conversion) cost about as much CPU per remote_write request as the
 * ingest itself; the app/ routes for the same paths stay, and serve them under `next dev`.
 */
type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/** POST path → handler; other methods on these paths still get Next's answer (405). */
const INGEST_ROUTES = new Map<string, (req: IngestRequest) => Promise<Reply>>([
  ["/api/v1/write", remoteWrite],
  ["/v1/metrics", otlpMetrics],
  // real-time scoring: latency-bound, so it skips Next's request handling too
  ["/api/v1/detect", detectApi],
]);

/** The route for a request, or undefined when Next should answer it. */
export function ingestRouteOf(method: string | undefined, url: string | undefined): ((req: IngestRequest) => Promise<Reply>) | undefined {
  if (method !== "POST" || !url) return undefined;
  const q = url.indexOf("?");
  return INGEST_ROUTES.get(q < 0 ? url : url.slice(0, q));
}

function nodeHeaders(req: http.IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(", ") : v);
  return h;
}

function headerValue(req: http.IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
}

/** A Node request as the ingest handlers read it (the app/ routes have `fetchIngestRequest`). */
export function nodeIngestRequest(req: http.IncomingMessage): IngestRequest {
  let params: URLSearchParams | undefined;
  return {
    header: (name) => headerValue(req, name) ?? undefined,
    query: (name) => {
      const url = req.url ?? "";
      const q = url.indexOf("?");
      return q < 0 ? null : (params ??= new URLSearchParams(url.slice(q + 1))).get(name);
    },
    body: (maxBytes) => readNodeBody(req, maxBytes),
  };
}

/**
 * Reads the body, refusing it (413) when Content-Length or the bytes actually received exceed
 * `maxBytes`. Past the limit nothing more is kept: the rest of the body is discarded as it
 * arrives, so the sender still reads the 413 on the same connection.
 */
function readNodeBody(req: http.IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  try {
    checkDeclaredLength(req.headers["content-length"], maxBytes);
  } catch (e) {
    req.resume();
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        done();
        req.resume();
        reject(payloadTooLarge(`more than ${maxBytes}`, maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onError = (e: Error) => {
      done();
      reject(e);
    };
    // the sender went away before the end of the body
    const onClose = () => {
      done();
      reject(Object.assign(new Error("the sender closed the connection before the end of the body"), { code: "ECONNABORTED" }));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/** The HTTP server with `handleNext` for every request that is not an ingest write. */
export function createWebServer(handleNext: RequestHandler): http.Server {
  return http.createServer((req, res) => {
    // The client address for sign-in rate limits, from the socket: never what the client says.
    req.headers[CLIENT_IP_HEADER] = req.socket.remoteAddress ?? "unknown";
    const refused = guardRequest(req.method ?? "GET", { get: (name) => headerValue(req, name) });
    if (refused) {
      res.writeHead(refused.status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify({ error: refused.message }));
      return;
    }
    const route = ingestRouteOf(req.method, req.url);
    const health = !route && req.method === "GET" && (req.url === "/api/health" || req.url?.startsWith("/api/health?"));
    const handled = route
      ? route(nodeIngestRequest(req)).then((reply) => sendReply(res, reply))
      : health
        ? healthReply(nodeHeaders(req)).then((reply) => sendReply(res, reply))
        : handleNext(req, res);
    handled.catch((e: unknown) => {
      // the handlers answer their own errors; this is a bug or a broken connection
      console.error(`[web] failed to handle ${req.method} ${req.url}:`, e);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end("Internal Server Error");
      } else res.destroy();
    });
  });
}

export interface WebServer {
  /** http://host:port as bound */
  url: string;
  /** Stops accepting connections, lets requests in flight finish, then closes Next. */
  close(): Promise<void>;
}

/** Prepares the built Next app in `dir` (`next build` output) and listens on host:port. */
export async function startWebServer(opts: { dir: string; host: string; port: number }): Promise<WebServer> {
  const app = next({ dev: false, dir: opts.dir, hostname: opts.host, port: opts.port });
  await app.prepare();
  const server = createWebServer(app.getRequestHandler());
  const stopIdleGc = startIdleGc(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(":") ? `[${address}]` : address}:${port}`,
    async close() {
      stopIdleGc();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await app.close();
    },
  };
}
