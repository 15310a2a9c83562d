import "server-only";
import { AppError, isAppError } from "@/lib/errors/app-error";
import { env } from "../env";
import { errorResponse } from "./json";

/**
 * Reads a request body, refusing it (413) when Content-Length or the bytes actually received
 * exceed `maxBytes`; stops reading at the limit so an oversized body is never buffered whole.
 */
export async function readLimitedBody(req: Request, maxBytes: number = env().OMEN_MAX_BODY_BYTES): Promise<Uint8Array> {
  const tooLarge = (n: number | string) =>
    new AppError(
      "PAYLOAD_TOO_LARGE",
      `The request body is ${n} bytes, over the limit of ${maxBytes} bytes (OMEN_MAX_BODY_BYTES). Send smaller batches (e.g. lower max_samples_per_send) or raise the limit.`,
      { limit: maxBytes },
    );
  const declared = Number(req.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(declared);
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
      throw tooLarge(`more than ${maxBytes}`);
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

/**
 * Error response for ingest endpoints. Back-pressure becomes `busyStatus` (503 for Prometheus,
 * which retries 5xx but not 429 by default; 429 for OTLP) with Retry-After. Database outages
 * become 503 too so senders retry instead of dropping data.
 */
export function ingestErrorResponse(e: unknown, busyStatus: 429 | 503 = 429): Response {
  if (isAppError(e) && e.code === "TOO_MANY_REQUESTS") {
    const retry = String((e.details?.retryAfterSeconds as number | undefined) ?? 5);
    return Response.json({ error: e.message, details: e.details }, { status: busyStatus, headers: { "Retry-After": retry } });
  }
  if (!isAppError(e) && isDatabaseUnavailable(e)) {
    console.error(e);
    return Response.json(
      { error: "The database is unavailable; nothing from this request was stored. Retry later." },
      { status: 503, headers: { "Retry-After": "10" } },
    );
  }
  return errorResponse(e);
}

function isDatabaseUnavailable(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code ?? "";
  return ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "57P01", "57P03", "53300"].includes(code) || /timeout exceeded when trying to connect/i.test(String((e as Error)?.message));
}

/** Optional `?source=` name that separates senders (cardinality caps are per source). */
export function sourceNameFrom(req: Request, fallback: string): string {
  const name = new URL(req.url).searchParams.get("source");
  if (name === null || name === "") return fallback;
  if (!/^[a-zA-Z0-9_.:\-]{1,100}$/.test(name)) {
    throw new AppError("BAD_REQUEST", `Invalid ?source= name "${name.slice(0, 40)}": use letters, digits, _ . : - (max 100 characters).`);
  }
  return name;
}
