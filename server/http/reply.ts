import type { ServerResponse } from "node:http";
import { isAppError } from "@/lib/errors/app-error";

/**
 * An HTTP answer as plain data, so one handler can be served by Node's http (the custom web
 * server) and as a fetch `Response` (the app/ route handlers under `next dev`).
 */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string | null;
}

export const NO_CONTENT: Reply = { status: 204, headers: {}, body: null };

export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(value) };
}

/**
 * JSON error body shared by every plain HTTP route: `{ error, details? }`. Anything but an
 * AppError is Omen's own fault: 500 with Retry-After (the request may succeed later; senders
 * such as Prometheus retry 5xx).
 */
export function errorReply(e: unknown, headers: Record<string, string> = {}): Reply {
  if (isAppError(e)) {
    const retry: Record<string, string> = e.status >= 500 ? { "Retry-After": String((e.details?.retryAfterSeconds as number | undefined) ?? 10) } : {};
    return jsonReply(e.status, { error: e.message, ...(e.details ? { details: e.details } : {}) }, { ...retry, ...headers });
  }
  console.error(e);
  return jsonReply(500, { error: "Internal error; nothing from this request was stored. See the Omen server log." }, { "Retry-After": "30", ...headers });
}

/**
 * 400 for a request whose samples were stored except those refused on their own (times out of
 * bounds), as Prometheus' receiver answers out-of-bounds samples: the message names the first
 * refused ones and says how many were stored; `note` adds what else the sender should know
 * (a CSV's skipped repeated times).
 */
export function refusedSamplesReply(
  r: { refused: number; refusedExamples: string[]; received: number; inserted: number; duplicates?: number },
  unit: string,
  where = "",
  note = "",
): Reply {
  const n = (k: number) => `${k} ${unit}${k === 1 ? "" : "s"}`;
  const more = r.refused > r.refusedExamples.length ? `; and ${r.refused - r.refusedExamples.length} more` : "";
  const stored = r.received
    ? `The other ${n(r.received)} of this request were stored (${r.inserted} new; re-sending them is harmless).`
    : "Nothing was stored: the request held no other samples.";
  const error = `${n(r.refused)} refused${where}: ${r.refusedExamples.join("; ")}${more}. ${stored} Fix the refused timestamps; they are not retried.${note ? ` ${note}` : ""}`;
  const duplicates = r.duplicates === undefined ? {} : { duplicates: r.duplicates };
  return jsonReply(400, { error, details: { refused: r.refused, stored: r.received, inserted: r.inserted, examples: r.refusedExamples, ...duplicates } });
}

/**
 * Error reply for ingest endpoints. Back-pressure becomes `busyStatus` (503 for Prometheus,
 * which retries 5xx but not 429 by default; 429 for OTLP) with Retry-After. Database outages
 * become 503 too so senders retry instead of dropping data.
 */
export function ingestErrorReply(e: unknown, busyStatus: 429 | 503): Reply {
  if (isAppError(e) && e.code === "UNAVAILABLE") {
    const retry = String((e.details?.retryAfterSeconds as number | undefined) ?? 5);
    return jsonReply(503, { error: e.message, details: e.details }, { "Retry-After": retry });
  }
  if (isAppError(e) && e.code === "TOO_MANY_REQUESTS") {
    const retry = String((e.details?.retryAfterSeconds as number | undefined) ?? 5);
    return jsonReply(busyStatus, { error: e.message, details: e.details }, { "Retry-After": retry });
  }
  if (!isAppError(e) && isDatabaseUnavailable(e)) {
    console.error(e);
    return jsonReply(503, { error: "The database is unavailable; nothing from this request was stored. Retry later." }, { "Retry-After": "10" });
  }
  return errorReply(e);
}

function isDatabaseUnavailable(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code ?? "";
  // pg reports a connection that died under a query (a server restart) without a code
  return (
    ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "57P01", "57P02", "57P03", "53300"].includes(code) ||
    /timeout exceeded when trying to connect|Connection terminated unexpectedly|encountered a connection error and is not queryable/i.test(String((e as Error)?.message))
  );
}

/** Writes a reply to Node's response. */
export function sendReply(res: ServerResponse, reply: Reply): void {
  res.statusCode = reply.status;
  for (const name in reply.headers) res.setHeader(name, reply.headers[name]!);
  if (reply.body === null) {
    res.end();
    return;
  }
  const body = typeof reply.body === "string" ? Buffer.from(reply.body) : reply.body;
  res.setHeader("content-length", body.byteLength);
  res.end(body);
}

/** The reply as a fetch Response (route handlers). */
export function toResponse(reply: Reply): Response {
  const body = typeof reply.body === "string" || reply.body === null ? reply.body : new Uint8Array(reply.body);
  return new Response(body, { status: reply.status, headers: reply.headers });
}
