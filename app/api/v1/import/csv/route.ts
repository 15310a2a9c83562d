import { AppError } from "@/lib/errors/app-error";
import { parseCsv } from "@/lib/ingest/csv";
import { env } from "@/server/env";
import { ingestErrorResponse, readLimitedBody, sourceNameFrom } from "@/server/http/ingest-http";
import { requireIngestToken } from "@/server/services/auth/ingest-token";
import { assertIngestCapacity, ingestSeries } from "@/server/services/ingest/ingest-service";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/**
 * CSV import (UI upload and `npm run import:csv`): body is the CSV text (text/csv), long
 * `timestamp,stream,value` or wide `timestamp,<stream>,…`. All-or-nothing: one transaction.
 */
export async function POST(req: Request): Promise<Response> {
  try {
    await requireIngestToken(req.headers);
    const source = sourceNameFrom(req, "csv");
    await assertIngestCapacity();
    const body = await readLimitedBody(req, env().OMEN_MAX_BODY_BYTES);
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
    return ingestErrorResponse(e, 429);
  }
}
