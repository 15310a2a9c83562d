import { detectApi } from "@/server/http/detect-handler";
import { fetchIngestRequest } from "@/server/http/ingest-http";
import { toResponse } from "@/server/http/reply";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Real-time scoring; `npm start` serves this path from server/http/detect-handler directly. */
export async function POST(req: Request): Promise<Response> {
  return toResponse(await detectApi(fetchIngestRequest(req)));
}
