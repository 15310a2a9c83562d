import { z } from "zod";
import { AppError } from "@/lib/errors/app-error";
import { DETECT_MAX_BODY_BYTES, DETECT_MAX_STREAMS, ZDetectRequest } from "@/lib/schemas/detect";
import { readLimitedBody } from "@/server/http/ingest-http";
import { errorResponse } from "@/server/http/json";
import { requireIngestToken } from "@/server/services/auth/ingest-token";
import { detectNow } from "@/server/services/detect/detect-service";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/**
 * Real-time scoring (docs/explain.md): `{timestamp?, streams: [{id | key, source?, value}]}` →
 * per stream `{score, severity, isAnomaly, type, causes, …}` from the live models, unchanged.
 */
export async function POST(req: Request): Promise<Response> {
  try {
    await requireIngestToken(req.headers.get("authorization"));
    const type = req.headers.get("content-type") ?? "";
    if (!/^application\/json\b/i.test(type)) throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Send JSON with \`Content-Type: application/json\` (got ${JSON.stringify(type || "none")}).`);
    const body = await readLimitedBody(req, DETECT_MAX_BODY_BYTES);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
    } catch (e) {
      throw new AppError("BAD_REQUEST", `The body is not valid JSON: ${(e as Error).message}`);
    }
    const count = (json as { streams?: unknown } | null)?.streams;
    if (Array.isArray(count) && count.length > DETECT_MAX_STREAMS) {
      throw new AppError("PAYLOAD_TOO_LARGE", `At most ${DETECT_MAX_STREAMS} streams per request (got ${count.length}); split the request.`);
    }
    const parsed = ZDetectRequest.safeParse(json);
    if (!parsed.success) throw new AppError("BAD_REQUEST", `Invalid detect request: ${z.prettifyError(parsed.error)}`);
    const { timingMs, ...out } = await detectNow(parsed.data);
    // where the time went, for clients and `npm run bench:detect-api` (stream lookup, worker scoring)
    return Response.json(out, { headers: { "server-timing": `lookup;dur=${timingMs.lookup.toFixed(1)}, score;dur=${timingMs.score.toFixed(1)}` } });
  } catch (e) {
    return errorResponse(e);
  }
}
