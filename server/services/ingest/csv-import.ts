import { finished } from "node:stream/promises";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { parse } from "csv-parse";
import { AppError } from "@/lib/errors/app-error";
import { CSV_PARSE_OPTIONS, csvSyntaxError, CsvReader, DEFAULT_CSV_LIMITS, type CsvDecoded, type CsvLayout, type CsvNaming } from "@/lib/ingest/csv";
import { declaredOrDetected, type CsvKind, type CsvKindFrom, type TCsvDeclaredKinds } from "@/lib/ingest/csv-kinds";
import { timeSlices } from "@/lib/ingest/time-slices";
import { streamKey, type TStreamKind } from "@/lib/schemas/stream";
import { getSourceByName } from "../../repos/sources-repo";
import { replaceTruthRanges } from "../../repos/stream-labels-repo";
import { findStreamIds, findStreamKinds } from "../../repos/streams-repo";
import { assertStreamsFit, ensureStreams, ingestSeries, validateIdentities } from "./ingest-service";

/** Bytes of the file handed to the parser at once. */
const PIECE_BYTES = 16 * 1024;
/** Parsing time after which the parser yields to the event loop, so other requests are served. */
const YIELD_AFTER_MS = 10;
/** Samples per transaction. */
const COMMIT_SAMPLES = 50_000;

export interface CsvImportResult {
  layout: CsvLayout;
  rows: number;
  series: number;
  newStreams: number;
  /** samples committed (after refusals) */
  received: number;
  /** of those, new */
  inserted: number;
  refused: number;
  refusedExamples: string[];
  /**
   * samples not stored (nor counted in `received` or a stream's `samples`) because their stream
   * has a sample at the same time earlier in the file: the first is kept, as storage keeps the
   * first of a (stream, time); the check reports the same count
   */
  duplicates: number;
  /** the first few: `<stream> at <time>: N samples, the first in the file kept` */
  duplicateExamples: string[];
  /**
   * the file's streams and their sample counts (what an import creates or extends), with the
   * kind each has after the import and why (`csvColumnKind`; an existing stream keeps its own)
   */
  streams: { key: string; samples: number; kind: TStreamKind; kindFrom: CsvKindFrom }[];
  /** ground-truth columns: rows marked and labelled ranges found (stored on every stream of the file) */
  groundTruth: { column: string; marked: number; ranges: number }[];
  /** labelled ranges stored (ranges × the file's streams) */
  labelledRanges: number;
}

export interface CsvImportOptions extends CsvNaming {
  /** parse and report what would be created, store nothing */
  dryRun?: boolean;
  /** kinds the sender declares for new streams, by stream key or metric name (see `declaredOrDetected`) */
  kinds?: TCsvDeclaredKinds;
}

/**
 * Parses a CSV body with csv-parse's streaming parser, a piece at a time, yielding to the event
 * loop every YIELD_AFTER_MS of parsing (a 9 MB file parsed in one go held every other request
 * for seconds), decides each new stream's kind from its whole column (`decideKinds`: a running
 * total becomes a counter, which the worker scores by its rate), then creates the file's streams (the cardinality cap is checked for the whole
 * file) and commits its samples in transactions of COMMIT_SAMPLES cut by time (see
 * `timeSlices`), each awaited. A malformed file is refused before anything is stored; a failure
 * while committing says how much was stored (re-importing the file is harmless: stored samples
 * are skipped).
 */
export async function importCsv(source: string, body: Uint8Array, nowMs: number = Date.now(), opts: CsvImportOptions = {}): Promise<CsvImportResult> {
  const decoded = await parseCsvStreaming(body, nowMs, opts);
  // the check (dry run) refuses what the import would, with the same message, before any lookup
  validateIdentities(decoded.series);
  const kinds = await decideKinds(source, decoded, opts.kinds ?? new Map());
  const preview = {
    layout: decoded.layout,
    rows: decoded.rows,
    series: decoded.series.length,
    refused: decoded.refused,
    refusedExamples: decoded.refusedExamples,
    duplicates: decoded.duplicates,
    duplicateExamples: decoded.duplicateExamples,
    streams: decoded.series.map((x, k) => ({ key: streamKey(x.metric, x.labels), samples: x.tsMs.length, kind: kinds[k]!.kind, kindFrom: kinds[k]!.from })),
    groundTruth: decoded.groundTruth.map((g) => ({ column: g.column, marked: g.marked, ranges: g.ranges.length })),
  };
  if (opts.dryRun) {
    // what the import would refuse next (the source's cardinality limit), with its message
    await assertStreamsFit(source, decoded.series);
    return { ...preview, newStreams: 0, received: 0, inserted: 0, labelledRanges: 0 };
  }
  const newStreams = await ensureStreams(source, "csv", decoded.series);
  let received = 0;
  let inserted = 0;
  try {
    for (const chunk of timeSlices(decoded.series, COMMIT_SAMPLES)) {
      const r = await ingestSeries(source, "csv", chunk, nowMs);
      received += r.received;
      inserted += r.inserted;
    }
  } catch (e) {
    if (received === 0) throw e;
    console.error(e);
    throw new AppError(
      "UNAVAILABLE",
      `The import stopped after ${received} of ${decoded.samples} samples were stored: ${(e as Error).message}. Import the file again later; samples already stored are skipped.`,
      { stored: received, samples: decoded.samples, retryAfterSeconds: 10 },
    );
  }
  const labelledRanges = await storeGroundTruth(source, decoded);
  return { ...preview, newStreams, received, inserted, labelledRanges };
}

/**
 * Each series' kind: an existing stream's stored kind, else the declared one, else
 * `csvColumnKind`'s from the whole column; a new series takes it (its stream is created so).
 */
async function decideKinds(source: string, decoded: CsvDecoded, declared: TCsvDeclaredKinds): Promise<CsvKind[]> {
  const src = await getSourceByName(source);
  // every key is storable text here (`validateIdentities` ran first), so the lookup cannot fail on one
  const keys = decoded.series.map((x) => streamKey(x.metric, x.labels));
  const stored = src && keys.length ? await findStreamKinds(src.id, keys) : new Map<string, TStreamKind>();
  const fresh = declaredOrDetected(decoded.series, declared);
  return decoded.series.map((x, k) => {
    const kind = stored.get(keys[k]!);
    if (kind) return { kind, from: "stored" };
    x.kind = fresh[k]!.kind;
    return fresh[k]!;
  });
}

/**
 * A ground-truth column labels every stream of its file: its runs of marked rows become labelled
 * ranges (`stream_label`, origin `csv:<column>`), shown on the streams' charts and scored by the
 * backtest. Importing the file again replaces them within the file's time span.
 */
async function storeGroundTruth(source: string, decoded: CsvDecoded): Promise<number> {
  if (decoded.groundTruth.length === 0 || decoded.series.length === 0) return 0;
  const src = await getSourceByName(source);
  if (!src) return 0;
  const ids = [...(await findStreamIds(src.id, decoded.series.map((x) => streamKey(x.metric, x.labels)))).values()];
  let from = Infinity;
  let to = -Infinity;
  for (const s of decoded.series) for (const t of s.tsMs) {
    if (t < from) from = t;
    if (t > to) to = t;
  }
  let stored = 0;
  for (const g of decoded.groundTruth) {
    const ranges = ids.flatMap((streamId) => g.ranges.map((r) => ({ streamId, ...r })));
    stored += await replaceTruthRanges(`csv:${g.column}`, ids, from, to, ranges);
  }
  return stored;
}

async function parseCsvStreaming(body: Uint8Array, nowMs: number, naming: CsvNaming): Promise<CsvDecoded> {
  const reader = new CsvReader(nowMs, DEFAULT_CSV_LIMITS, naming);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let failure: unknown = null;
  // records are taken as the parser finds them, inside write(): none is queued in the stream, so
  // a piece's whole cost is paid before write() returns and the yields below bound it
  const parser = parse({
    ...CSV_PARSE_OPTIONS,
    info: false,
    // without `columns` a record is its fields
    on_record: (record: unknown, context) => {
      if (failure === null) {
        try {
          reader.add(record as string[], context.lines);
        } catch (e) {
          failure = e;
        }
      }
      return undefined;
    },
  });
  parser.on("error", (e) => (failure ??= e));
  parser.resume();
  const done = finished(parser).catch(() => undefined);
  let lastYield = performance.now();
  for (let at = 0; at < body.length && failure === null; at += PIECE_BYTES) {
    const piece = body.subarray(at, at + PIECE_BYTES);
    let text: string;
    try {
      text = utf8.decode(piece, { stream: at + PIECE_BYTES < body.length });
    } catch {
      failure = new AppError("BAD_REQUEST", `The CSV file is not UTF-8 text (invalid bytes within bytes ${at}–${at + piece.length}). Nothing from this file was stored.`);
      break;
    }
    parser.write(text);
    failure ??= parser.errored; // a syntax error, known at once
    if (performance.now() - lastYield >= YIELD_AFTER_MS) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }
  if (failure === null) parser.end();
  else parser.destroy();
  await done;
  if (failure !== null) throw csvSyntaxError(failure);
  return reader.finish();
}
