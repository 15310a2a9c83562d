import { AppError } from "@/lib/errors/app-error";
import { decompressSnappy, MetadataCache, scanWriteRequest } from "@/lib/ingest/remote-write";
import { env } from "@/server/env";
import { ingestErrorResponse, readLimitedBody, sourceNameFrom } from "@/server/http/ingest-http";
import { requireIngestToken } from "@/server/services/auth/ingest-token";
import { assertIngestCapacity, ingestRemoteWrite } from "@/server/services/ingest/ingest-service";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Metric types learnt from remote_write metadata requests (counter → rate in the engine). */
const metadata = new MetadataCache();

/**
 * Prometheus remote_write 1.0 receiver: auth → back-pressure → size limit → snappy → protobuf scan →
 * ingestRemoteWrite (one transaction) → 204. 4xx are not retried by Prometheus; 503 is.
 */
export async function POST(req: Request): Promise<Response> {
  try {
    await requireIngestToken(req.headers);
    const contentType = req.headers.get("content-type") ?? "application/x-protobuf";
    if (/proto=io\.prometheus\.write\.v2/.test(contentType)) {
      throw new AppError(
        "UNSUPPORTED_MEDIA_TYPE",
        "Remote-Write 2.0 is not supported; configure `protobuf_message: prometheus.WriteRequest` (1.0) in the remote_write block.",
      );
    }
    if (!/^application\/x-protobuf\b/i.test(contentType)) {
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Content-Type must be application/x-protobuf (snappy-compressed WriteRequest), got "${contentType.slice(0, 60)}".`);
    }
    const encoding = req.headers.get("content-encoding");
    if (encoding && encoding.toLowerCase() !== "snappy") {
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Content-Encoding must be snappy, got "${encoding.slice(0, 40)}".`);
    }
    const source = sourceNameFrom(req, "prometheus");
    await assertIngestCapacity();
    const max = env().OMEN_MAX_BODY_BYTES;
    const body = await readLimitedBody(req, max);
    const scan = scanWriteRequest(decompressSnappy(body, max));
    if (scan.series) await ingestRemoteWrite(source, scan, metadata);
    return new Response(null, { status: 204 });
  } catch (e) {
    return ingestErrorResponse(e, 503);
  }
}
