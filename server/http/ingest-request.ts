import zlib from "node:zlib";
import { AppError } from "@/lib/errors/app-error";

/**
 * The checks the write endpoints make on a request before decoding it, shared by the custom web
 * server (Node's http) and the app/ route handlers (fetch `Request`, used by `next dev`), so
 * both answer alike. Pure: they throw AppError with the message the sender sees.
 */

/** What the ingest handlers read from a request, whatever the transport. */
export interface IngestRequest {
  /** A header's value (name in lower case), or undefined when absent. */
  header(name: string): string | undefined;
  /** A query parameter's value, or null when absent. */
  query(name: string): string | null;
  /**
   * The whole body; PAYLOAD_TOO_LARGE when Content-Length or the bytes received exceed
   * `maxBytes` (reading stops at the limit, so an oversized body is never buffered whole).
   */
  body(maxBytes: number): Promise<Uint8Array>;
}

export function payloadTooLarge(size: number | string, maxBytes: number): AppError {
  return new AppError(
    "PAYLOAD_TOO_LARGE",
    `The request body is ${size} bytes, over the limit of ${maxBytes} bytes (OMEN_MAX_BODY_BYTES). Send smaller batches (e.g. lower max_samples_per_send) or raise the limit.`,
    { limit: maxBytes },
  );
}

/** Refuses a body whose declared Content-Length is over the limit, before reading any of it. */
export function checkDeclaredLength(contentLength: string | undefined, maxBytes: number): void {
  const declared = Number(contentLength ?? "");
  if (Number.isFinite(declared) && declared > maxBytes) throw payloadTooLarge(declared, maxBytes);
}

/** Prometheus remote_write 1.0: snappy-compressed protobuf (a missing Content-Type is allowed). */
export function checkRemoteWriteHeaders(contentTypeHeader: string | undefined, encoding: string | undefined): void {
  const contentType = contentTypeHeader ?? "application/x-protobuf";
  if (/proto=io\.prometheus\.write\.v2/.test(contentType)) {
    throw new AppError(
      "UNSUPPORTED_MEDIA_TYPE",
      "Remote-Write 2.0 is not supported; configure `protobuf_message: prometheus.WriteRequest` (1.0) in the remote_write block.",
    );
  }
  if (!/^application\/x-protobuf\b/i.test(contentType)) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Content-Type must be application/x-protobuf (snappy-compressed WriteRequest), got "${contentType.slice(0, 60)}".`);
  }
  if (encoding && encoding.toLowerCase() !== "snappy") {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Content-Encoding must be snappy, got "${encoding.slice(0, 40)}".`);
  }
}

/** OTLP/HTTP JSON encoding? (Decided before anything else: errors answer in the request's encoding.) */
export function isOtlpJson(contentType: string | undefined): boolean {
  return (contentType ?? "").toLowerCase().startsWith("application/json");
}

export function checkOtlpContentType(contentTypeHeader: string | undefined): void {
  const contentType = (contentTypeHeader ?? "").toLowerCase();
  if (!contentType.startsWith("application/json") && !contentType.startsWith("application/x-protobuf")) {
    throw new AppError(
      "UNSUPPORTED_MEDIA_TYPE",
      `Content-Type must be application/x-protobuf or application/json (OTLP/HTTP), got "${contentType.slice(0, 60) || "none"}".`,
    );
  }
}

/** Undoes an OTLP body's Content-Encoding (gzip or none), refusing output over `maxBytes`. */
export function decodeOtlpEncoding(body: Uint8Array, encodingHeader: string | undefined, maxBytes: number): Uint8Array {
  const encoding = (encodingHeader ?? "").toLowerCase();
  if (encoding === "gzip") {
    try {
      return zlib.gunzipSync(body, { maxOutputLength: maxBytes });
    } catch (e) {
      const tooBig = (e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE";
      throw new AppError(
        tooBig ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST",
        tooBig
          ? `The request decompresses to more than ${maxBytes} bytes (OMEN_MAX_BODY_BYTES); export in smaller batches.`
          : `The body is not valid gzip (${(e as Error).message}). Nothing from this request was stored.`,
      );
    }
  }
  if (encoding && encoding !== "identity") {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Content-Encoding must be gzip or none, got "${encoding.slice(0, 40)}".`);
  }
  return body;
}

/** Optional `?source=` name that separates senders (cardinality caps are per source). */
export function sourceName(param: string | null, fallback: string): string {
  if (param === null || param === "") return fallback;
  if (!/^[a-zA-Z0-9_.:\-]{1,100}$/.test(param)) {
    throw new AppError("BAD_REQUEST", `Invalid ?source= name "${param.slice(0, 40)}": use letters, digits, _ . : - (max 100 characters).`);
  }
  return param;
}
