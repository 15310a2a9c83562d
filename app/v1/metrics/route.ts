import zlib from "node:zlib";
import { AppError, isAppError } from "@/lib/errors/app-error";
import { decodeOtlpJson, decodeOtlpProtobuf, HistogramWindows, otlpToSeries } from "@/lib/ingest/otlp";
import { ExportMetricsServiceResponse, RpcStatus } from "@/lib/ingest/otlp-proto";
import { env } from "@/server/env";
import { ingestErrorResponse, readLimitedBody, sourceNameFrom } from "@/server/http/ingest-http";
import { requireIngestToken } from "@/server/services/auth/ingest-token";
import { assertIngestCapacity, ingestSeries } from "@/server/services/ingest/ingest-service";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Last cumulative histogram buckets per series, so p95 covers the latest export interval. */
const windows = new HistogramWindows();

// google.rpc.Code values used in OTLP error bodies
const RPC_CODE: Record<number, number> = { 400: 3, 401: 16, 413: 8, 415: 3, 429: 8, 503: 14, 500: 13 };

/**
 * OTLP/HTTP metrics receiver (binary protobuf or JSON, optional gzip): auth → back-pressure →
 * size limit → decode → ingestSeries (one transaction) → 200 ExportMetricsServiceResponse.
 * Errors carry a google.rpc.Status in the request's encoding; 429/503 include Retry-After.
 */
export async function POST(req: Request): Promise<Response> {
  const contentType = (req.headers.get("content-type") ?? "").toLowerCase();
  const json = contentType.startsWith("application/json");
  try {
    await requireIngestToken(req.headers);
    if (!json && !contentType.startsWith("application/x-protobuf")) {
      throw new AppError(
        "UNSUPPORTED_MEDIA_TYPE",
        `Content-Type must be application/x-protobuf or application/json (OTLP/HTTP), got "${contentType.slice(0, 60) || "none"}".`,
      );
    }
    const source = sourceNameFrom(req, "otlp");
    await assertIngestCapacity();
    const max = env().OMEN_MAX_BODY_BYTES;
    let body = await readLimitedBody(req, max);
    const encoding = (req.headers.get("content-encoding") ?? "").toLowerCase();
    if (encoding === "gzip") {
      try {
        body = zlib.gunzipSync(body, { maxOutputLength: max });
      } catch (e) {
        const tooBig = (e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE";
        throw new AppError(
          tooBig ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST",
          tooBig
            ? `The request decompresses to more than ${max} bytes (OMEN_MAX_BODY_BYTES); export in smaller batches.`
            : `The body is not valid gzip (${(e as Error).message}). Nothing from this request was stored.`,
        );
      }
    } else if (encoding && encoding !== "identity") {
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Content-Encoding must be gzip or none, got "${encoding.slice(0, 40)}".`);
    }
    const request = json ? decodeOtlpJson(new TextDecoder().decode(body)) : decodeOtlpProtobuf(body);
    const decoded = otlpToSeries(request, windows);
    if (decoded.series.length) await ingestSeries(source, "otlp", decoded.series);
    if (json) return Response.json({}, { status: 200 });
    const bytes = ExportMetricsServiceResponse.encode(ExportMetricsServiceResponse.create({})).finish();
    return new Response(new Uint8Array(bytes), { status: 200, headers: { "content-type": "application/x-protobuf" } });
  } catch (e) {
    const res = ingestErrorResponse(e, 429);
    if (json || !isAppError(e)) return res;
    // Binary requests get a protobuf google.rpc.Status (the OTLP spec); the message is readable text.
    const status = RpcStatus.encode(RpcStatus.create({ code: RPC_CODE[res.status] ?? 2, message: e.message })).finish();
    return new Response(new Uint8Array(status), { status: res.status, headers: { ...Object.fromEntries(res.headers), "content-type": "application/x-protobuf" } });
  }
}
