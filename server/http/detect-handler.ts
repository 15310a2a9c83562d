import { z } from "zod";
import { AppError } from "@/lib/errors/app-error";
import { DETECT_MAX_BODY_BYTES, DETECT_MAX_STREAMS, ZDetectRequest } from "@/lib/schemas/detect";
import { requireScope } from "../services/auth/principal";
import { detectNow } from "../services/detect/detect-service";
import type { IngestRequest } from "./ingest-request";
import { errorReply, jsonReply, type Reply } from "./reply";

/**
 * `POST /api/v1/detect` (docs/explain.md), independent of the transport like the write
 * endpoints: the custom web server answers it from Node's http (Next's request handling would
 * cost more than the scoring), the app/ route wraps it for `next dev`.
 */
function credentials(req: IngestRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ["authorization", "cookie"]) {
    const v = req.header(name);
    if (v) out[name] = v;
  }
  return out;
}

export async function detectApi(req: IngestRequest): Promise<Reply> {
  try {
    // Scoring reads the live models and stores nothing: the read scope (a token or a signed-in user).
    await requireScope(new Headers(credentials(req)), "read");
    const type = req.header("content-type") ?? "";
    if (!/^application\/json\b/i.test(type)) throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Send JSON with \`Content-Type: application/json\` (got ${JSON.stringify(type || "none")}).`);
    const body = await req.body(DETECT_MAX_BODY_BYTES);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
    } catch (e) {
      throw new AppError("BAD_REQUEST", `The body is not valid JSON: ${(e as Error).message}`);
    }
    const streams = (json as { streams?: unknown } | null)?.streams;
    if (Array.isArray(streams) && streams.length > DETECT_MAX_STREAMS) {
      throw new AppError("PAYLOAD_TOO_LARGE", `At most ${DETECT_MAX_STREAMS} streams per request (got ${streams.length}); split the request.`);
    }
    const parsed = ZDetectRequest.safeParse(json);
    if (!parsed.success) throw new AppError("BAD_REQUEST", `Invalid detect request: ${z.prettifyError(parsed.error)}`);
    const { timingMs, ...out } = await detectNow(parsed.data);
    // where the time went, for clients and `npm run bench:detect-api` (stream lookup, worker scoring)
    return jsonReply(200, out, { "server-timing": `lookup;dur=${timingMs.lookup.toFixed(1)}, score;dur=${timingMs.score.toFixed(1)}` });
  } catch (e) {
    return errorReply(e);
  }
}
