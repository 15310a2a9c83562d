import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { parse } from "csv-parse";
import { AppError } from "@/lib/errors/app-error";
import { CSV_PARSE_OPTIONS, csvSyntaxError, CsvReader, DEFAULT_CSV_LIMITS, type CsvDecoded, type CsvLayout, type CsvNaming } from "@/lib/ingest/csv";
import { streamKey } from "@/lib/schemas/stream";
import type { DecodedSeries } from "@/lib/ingest/types";
import { getSourceByName } from "../../repos/sources-repo";
import { replaceTruthRanges } from "../../repos/stream-labels-repo";
import { findStreamIds } from "../../repos/streams-repo";
import { ensureStreams, ingestSeries } from "./ingest-service";

/** Bytes of the file handed to the parser between two yields to the event loop. */
const SLICE_BYTES = 256 * 1024;
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
  /** the file's streams and their sample counts (what an import creates or extends) */
  streams: { key: string; samples: number }[];
  /** ground-truth columns: rows marked and labelled ranges found (stored on every stream of the file) */
  groundTruth: { column: string; marked: number; ranges: number }[];
  /** labelled ranges stored (ranges × the file's streams) */
  labelledRanges: number;
}

export interface CsvImportOptions extends CsvNaming {
  /** parse and report what would be created, store nothing */
  dryRun?: boolean;
}

/**
 * Parses a CSV body with csv-parse's streaming parser, a slice at a time with a yield to the
 * event loop between slices (a 9 MB file parsed in one go held every other request for
 * seconds), then creates the file's streams (the cardinality cap is checked for the whole file)
 * and commits its samples in transactions of COMMIT_SAMPLES, each awaited. A malformed file is
 * refused before anything is stored; a failure while committing says how much was stored
 * (re-importing the file is harmless: stored samples are skipped).
 */
export async function importCsv(source: string, body: Uint8Array, nowMs: number = Date.now(), opts: CsvImportOptions = {}): Promise<CsvImportResult> {
  const decoded = await parseCsvStreaming(body, nowMs, opts);
  const preview = {
    layout: decoded.layout,
    rows: decoded.rows,
    series: decoded.series.length,
    refused: decoded.refused,
    refusedExamples: decoded.refusedExamples,
    streams: decoded.series.map((x) => ({ key: streamKey(x.metric, x.labels), samples: x.tsMs.length })),
    groundTruth: decoded.groundTruth.map((g) => ({ column: g.column, marked: g.marked, ranges: g.ranges.length })),
  };
  if (opts.dryRun) return { ...preview, newStreams: 0, received: 0, inserted: 0, labelledRanges: 0 };
  const newStreams = await ensureStreams(source, "csv", decoded.series);
  let received = 0;
  let inserted = 0;
  try {
    for (const chunk of chunks(decoded.series, COMMIT_SAMPLES)) {
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
  const parser = parse(CSV_PARSE_OPTIONS);
  let failure: unknown = null;
  parser.on("readable", () => {
    let r: { record: string[]; info: { lines: number } } | null;
    try {
      while (failure === null && (r = parser.read() as typeof r) !== null) reader.add(r.record, r.info.lines);
    } catch (e) {
      failure = e;
      parser.destroy(); // ends the wait below
    }
  });
  const ended = new Promise<void>((resolve) => {
    parser.on("end", resolve);
    parser.on("close", resolve);
    parser.on("error", (e) => {
      failure ??= e;
      resolve();
    });
  });
  for (let at = 0; at < body.length && failure === null; at += SLICE_BYTES) {
    const slice = body.subarray(at, at + SLICE_BYTES);
    let text: string;
    try {
      text = utf8.decode(slice, { stream: at + SLICE_BYTES < body.length });
    } catch {
      failure = new AppError("BAD_REQUEST", `The CSV file is not UTF-8 text (invalid bytes within bytes ${at}–${at + slice.length}). Nothing from this file was stored.`);
      break;
    }
    parser.write(text);
    await yieldToEventLoop();
  }
  if (failure === null) parser.end();
  else parser.destroy();
  if (failure === null) await ended;
  if (failure !== null) throw csvSyntaxError(failure);
  return reader.finish();
}

/** The series' samples in pieces of at most `max` samples (a series may span pieces). */
function* chunks(series: DecodedSeries[], max: number): Generator<DecodedSeries[]> {
  let out: DecodedSeries[] = [];
  let n = 0;
  for (const s of series) {
    for (let from = 0; from < s.tsMs.length; ) {
      const take = Math.min(max - n, s.tsMs.length - from);
      out.push({ ...s, tsMs: s.tsMs.slice(from, from + take), values: s.values.slice(from, from + take) });
      n += take;
      from += take;
      if (n === max) {
        yield out;
        out = [];
        n = 0;
      }
    }
  }
  if (out.length) yield out;
}
