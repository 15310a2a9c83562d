import { AppError } from "@/lib/errors/app-error";
import { parseDeclaredKinds } from "@/lib/ingest/csv-kinds";
import { describeRepeats } from "@/lib/ingest/repeated-times";
import { env } from "@/server/env";
import { fetchIngestRequest } from "@/server/http/ingest-http";
import { sourceName } from "@/server/http/ingest-request";
import { ingestErrorReply, refusedSamplesReply, toResponse } from "@/server/http/reply";
import { requireScope } from "@/server/services/auth/principal";
import { importCsv } from "@/server/services/ingest/csv-import";
import { assertIngestCapacity } from "@/server/services/ingest/ingest-service";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const CSV_TYPES = /^(text\/csv|text\/plain|application\/csv|application\/octet-stream)\b/i;

/**
 * CSV import (UI upload and `npm run import:csv`): body is the CSV text (text/csv), long
 * `timestamp,stream,value` or wide `timestamp,<stream>,…`. Parsed as a stream and committed in
 * chunks (server/services/ingest/csv-import.ts); a malformed file stores nothing; samples whose
 * time is out of bounds are refused one by one (400 naming line and column, the rest stored).
 * `file=<name>` names a generic `value` column's stream after the file (two files headed
 * `timestamp,value` stay two streams), `metric=<name>` names it explicitly, `kinds=<JSON>`
 * declares new streams' kinds (`{"requests":"counter"}`, by stream key or metric name; otherwise
 * each is decided from its column, see lib/ingest/csv-kinds.ts), and `dryRun=1` answers what
 * would be created, each stream with its kind, without storing anything. A sample at a time its
 * stream already has earlier in the file is skipped (storage keeps the first): both answers count
 * them (`duplicates`, `duplicateExamples`), and no stream's `samples` includes them.
 */
export async function POST(req: Request): Promise<Response> {
  const request = fetchIngestRequest(req);
  try {
    // a token with the ingest scope (scripts), or an admin's session (the upload on Settings → Sources)
    await requireScope(req.headers, "ingest");
    const type = request.header("content-type");
    if (type && !CSV_TYPES.test(type)) {
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Content-Type must be text/csv, got "${type.slice(0, 60)}". Nothing from this request was stored.`);
    }
    const source = sourceName(request.query("source"), "csv");
    const kinds = parseDeclaredKinds(request.query("kinds"));
    await assertIngestCapacity();
    const body = await request.body(env().OMEN_MAX_BODY_BYTES);
    const file = request.query("file")?.slice(0, 300) || undefined;
    const metric = request.query("metric")?.slice(0, 200) || undefined;
    const dryRun = request.query("dryRun") === "1";
    const res = await importCsv(source, body, Date.now(), { file, metric, dryRun, kinds });
    if (dryRun) return Response.json({ dryRun: true, ...res, samples: res.streams.reduce((n, s) => n + s.samples, 0), source });
    if (res.refused) return toResponse(refusedSamplesReply(res, "sample", " (CSV)", describeRepeats(res.duplicates, res.duplicateExamples)));
    return Response.json({ ...res, source });
  } catch (e) {
    return toResponse(ingestErrorReply(e, 429));
  }
}
