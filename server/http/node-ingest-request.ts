import type { IncomingMessage } from "node:http";
import { checkDeclaredLength, payloadTooLarge, type IngestRequest } from "./ingest-request";

/** A Node request (the custom web server) as the ingest handlers read it. */
export function nodeIngestRequest(req: IncomingMessage): IngestRequest {
  let params: URLSearchParams | undefined;
  return {
    header: (name) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(", ") : v;
    },
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
export function readNodeBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
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
