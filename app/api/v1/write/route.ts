import { remoteWrite } from "@/server/http/ingest-handlers";
import { fetchIngestRequest } from "@/server/http/ingest-http";
import { toResponse } from "@/server/http/reply";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/**
 * Prometheus remote_write receiver. `npm start` serves this path from the custom web server
 * (server/web) without going through Next; this route serves it under `next dev`.
 */
export async function POST(req: Request): Promise<Response> {
  return toResponse(await remoteWrite(fetchIngestRequest(req)));
}
