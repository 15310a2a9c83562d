import { isAppError } from "@/lib/errors/app-error";
import { decodeOtlpJson, decodeOtlpProtobuf, HistogramWindows, otlpToSeries } from "@/lib/ingest/otlp";
import { ExportMetricsServiceResponse, RpcStatus } from "@/lib/ingest/otlp-proto";
import { decompressSnappy, MetadataCache, scanWriteRequest } from "@/lib/ingest/remote-write";
import { env } from "../env";
import { processGlobal } from "../process-global";
import { requireIngestToken } from "../services/auth/ingest-auth";
import { assertIngestCapacity, ingestRemoteWrite, ingestSeries } from "../services/ingest/ingest-service";
import { checkOtlpContentType, checkRemoteWriteHeaders, decodeOtlpEncoding, isOtlpJson, sourceName, type IngestRequest } from "./ingest-request";
import { ingestErrorReply, jsonReply, NO_CONTENT, refusedSamplesReply, type Reply } from "./reply";

/**
 * The two hot write endpoints, independent of the transport: the custom web server serves them
 * from Node's http (server/web), and the app/ routes wrap them for `next dev`.
 */

// What the endpoints learn from earlier requests; one per process, whichever copy serves them.
const learnt = processGlobal("ingest-handlers", () => ({
  /** Metric types learnt from remote_write metadata requests (counter → rate in the engine). */
  metadata: new MetadataCache(),
  /** Last cumulative histogram buckets per OTLP series, so p95 covers the latest export interval. */
  windows: new HistogramWindows(),
}));

/**
 * Prometheus remote_write 1.0 receiver (POST /api/v1/write): auth → back-pressure → size limit →
 * snappy → protobuf scan → ingestRemoteWrite (one transaction) → 204. 4xx are not retried by
 * Prometheus; 503 is.
 */
export async function remoteWrite(req: IngestRequest): Promise<Reply> {
  try {
    await requireIngestToken(req.header("authorization"));
    checkRemoteWriteHeaders(req.header("content-type"), req.header("content-encoding"));
    const source = sourceName(req.query("source"), "prometheus");
    await assertIngestCapacity();
    const max = env().OMEN_MAX_BODY_BYTES;
    const scan = scanWriteRequest(decompressSnappy(await req.body(max), max));
    if (!scan.series) return NO_CONTENT;
    const result = await ingestRemoteWrite(source, scan, learnt.metadata);
    // as Prometheus' own receiver: the accepted samples are committed, the request answers 400
    // (not retried) naming the refused ones
    if (result.refused) return refusedSamplesReply(result, "sample");
    return NO_CONTENT;
  } catch (e) {
    return ingestErrorReply(e, 503);
  }
}

// google.rpc.Code values used in OTLP error bodies
const RPC_CODE: Record<number, number> = { 400: 3, 401: 16, 413: 8, 415: 3, 429: 8, 503: 14, 500: 13 };
const PROTOBUF = { "content-type": "application/x-protobuf" };

/**
 * OTLP/HTTP metrics receiver (POST /v1/metrics; binary protobuf or JSON, optional gzip): auth →
 * back-pressure → size limit → decode → ingestSeries (one transaction) → 200
 * ExportMetricsServiceResponse. Errors carry a google.rpc.Status in the request's encoding;
 * 429/503 include Retry-After.
 */
export async function otlpMetrics(req: IngestRequest): Promise<Reply> {
  const json = isOtlpJson(req.header("content-type"));
  try {
    await requireIngestToken(req.header("authorization"));
    checkOtlpContentType(req.header("content-type"));
    const source = sourceName(req.query("source"), "otlp");
    await assertIngestCapacity();
    const max = env().OMEN_MAX_BODY_BYTES;
    const body = decodeOtlpEncoding(await req.body(max), req.header("content-encoding"), max);
    const request = json ? decodeOtlpJson(new TextDecoder().decode(body)) : decodeOtlpProtobuf(body);
    const decoded = otlpToSeries(request, learnt.windows);
    if (decoded.series.length) await ingestSeries(source, "otlp", decoded.series);
    // OTLP's partial success: 200, with the count of refused points and why (the rest is stored)
    const partial = decoded.rejected
      ? {
          rejectedDataPoints: decoded.rejected,
          errorMessage: `${decoded.rejected} data point${decoded.rejected === 1 ? " was" : "s were"} refused: ${decoded.rejectedExamples.join("; ")}${decoded.rejected > decoded.rejectedExamples.length ? "; …" : ""}. The other data points of this request were stored.`,
        }
      : undefined;
    if (json) return jsonReply(200, partial ? { partialSuccess: { ...partial, rejectedDataPoints: String(partial.rejectedDataPoints) } } : {});
    const response = ExportMetricsServiceResponse.create(partial ? { partialSuccess: partial } : {});
    return { status: 200, headers: PROTOBUF, body: ExportMetricsServiceResponse.encode(response).finish() };
  } catch (e) {
    const reply = ingestErrorReply(e, 429);
    if (json || !isAppError(e)) return reply;
    // Binary requests get a protobuf google.rpc.Status (the OTLP spec); the message is readable text.
    const status = RpcStatus.encode(RpcStatus.create({ code: RPC_CODE[reply.status] ?? 2, message: e.message })).finish();
    return { status: reply.status, headers: { ...reply.headers, ...PROTOBUF }, body: status };
  }
}

