import { AppError } from "@/lib/errors/app-error";
import { parseCsv } from "@/lib/ingest/csv";
import { env } from "@/server/env";
import { fetchIngestRequest } from "@/server/http/ingest-http";
import { sourceName } from "@/server/http/ingest-request";
import { ingestErrorReply, toResponse } from "@/server/http/reply";
import { requireScope } from "@/server/services/auth/principal";
import { assertIngestCapacity, ingestSeries } from "@/server/services/ingest/ingest-service";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/**
 * CSV import (UI upload and `npm run import:csv`): body is the CSV text (text/csv), long
 * `timestamp,stream,value` or wide `timestamp,<stream>,…`. All-or-nothing: one transaction.
 */
export async function POST(req: Request): Promise<Response> {
  const request = fetchIngestRequest(req);
  try {
    // a token with the ingest scope (scripts), or an admin's session (the upload on Settings → Sources)
    await requireScope(req.headers, "ingest");
    const source = sourceName(request.query("source"), "csv");
    await assertIngestCapacity();
    const body = await request.body(env().OMEN_MAX_BODY_BYTES);
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(body);
    } catch {
      throw new AppError("BAD_REQUEST", "The CSV file is not UTF-8 text.");
    }
    const parsed = parseCsv(text);
    const res = parsed.series.length
      ? await ingestSeries(source, "csv", parsed.series)
      : { series: 0, newStreams: 0, received: 0, inserted: 0 };
    return Response.json({ layout: parsed.layout, rows: parsed.rows, ...res, source });
  } catch (e) {
    return toResponse(ingestErrorReply(e, 429));
  }
}
