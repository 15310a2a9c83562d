import "server-only";
import { checkDeclaredLength, payloadTooLarge, type IngestRequest } from "./ingest-request";

/** A fetch `Request` (app/ route handlers) as the ingest handlers read it. */
export function fetchIngestRequest(req: Request): IngestRequest {
  let params: URLSearchParams | undefined;
  return {
    header: (name) => req.headers.get(name) ?? undefined,
    query: (name) => (params ??= new URL(req.url).searchParams).get(name),
    body: (maxBytes) => readLimitedBody(req, maxBytes),
  };
}

/**
 * Reads a request body, refusing it (413) when Content-Length or the bytes actually received
 * exceed `maxBytes`; stops reading at the limit so an oversized body is never buffered whole.
 */
export async function readLimitedBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  checkDeclaredLength(req.headers.get("content-length") ?? undefined, maxBytes);
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw payloadTooLarge(`more than ${maxBytes}`, maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}
