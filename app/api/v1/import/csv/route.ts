import { AppError } from "@/lib/errors/app-error";
import { parseCsv } from "@/lib/ingest/csv";
import { streamKey } from "@/lib/schemas/stream";
import { env } from "@/server/env";
import { fetchIngestRequest } from "@/server/http/ingest-http";
import { sourceName } from "@/server/http/ingest-request";
import { ingestErrorReply, toResponse } from "@/server/http/reply";
import { requireIngestToken } from "@/server/services/auth/ingest-token";
import { assertIngestCapacity, ingestSeries } from "@/server/services/ingest/ingest-service";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/**
 * CSV import (UI upload and `npm run import:csv`): body is the CSV text (text/csv), long
 * `timestamp,stream,value` or wide `timestamp,<stream>,…`. All-or-nothing: one transaction.
 * `file=<name>` names a generic `value` column's stream after the file (two files headed
 * `timestamp,value` stay two streams), `metric=<name>` names it explicitly, and `dryRun=1`
 * answers what would be created without storing anything.
 */
export async function POST(req: Request): Promise<Response> {
  const request = fetchIngestRequest(req);
  try {
    await requireIngestToken(request.header("authorization"));
    const source = sourceName(request.query("source"), "csv");
    await assertIngestCapacity();
    const body = await request.body(env().OMEN_MAX_BODY_BYTES);
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(body);
    } catch {
      throw new AppError("BAD_REQUEST", "The CSV file is not UTF-8 text.");
    }
    const file = request.query("file")?.slice(0, 300) || undefined;
    const metric = request.query("metric")?.slice(0, 200) || undefined;
    const parsed = parseCsv(text, { file, metric });
    const streams = parsed.series.map((x) => ({ key: streamKey(x.metric, x.labels), samples: x.tsMs.length }));
    if (request.query("dryRun") === "1") {
      return Response.json({ dryRun: true, layout: parsed.layout, rows: parsed.rows, samples: parsed.samples, streams, groundTruth: parsed.groundTruth, source });
    }
    const res = parsed.series.length
      ? await ingestSeries(source, "csv", parsed.series)
      : { series: 0, newStreams: 0, received: 0, inserted: 0 };
    return Response.json({ layout: parsed.layout, rows: parsed.rows, ...res, source, streams, groundTruth: parsed.groundTruth });
  } catch (e) {
    return toResponse(ingestErrorReply(e, 429));
  }
}
