/**
 * CSV import, two layouts (detected from the header):
 * - long:  `timestamp,stream,value` — one sample per row; `stream` is a metric name or a full
 *          stream key such as `http_requests{job="api"}`.
 * - wide:  `timestamp,<stream>,<stream>,…` — the detection CLI's input format: one row per
 *          timestamp, one column per stream, an empty cell for a missing value.
 * Timestamps are ISO-8601 or epoch seconds / milliseconds (numbers below 1e11 are seconds).
 * Errors name the line (1-based, as an editor shows it) and column.
 *
 * `CsvReader` takes csv-parse records one by one (the server feeds it from csv-parse's
 * streaming parser, yielding to the event loop between slices of the file); `parseCsv` is the
 * same over a whole text. A malformed file (bad header, a cell that is not a number or a time,
 * a bad stream name, over the limits) is refused whole. A sample whose time is out of bounds
 * (more than 10 minutes ahead, before 1970) is refused on its own, with its line and column,
 * as on every ingest path (see sample-bounds.ts). A sample at a time its stream already has
 * earlier in the file is dropped and counted (see repeated-times.ts): storage keeps only the
 * first, so `samples` and each series are what an import stores.
 */
import { parse } from "csv-parse/sync";
import { AppError } from "@/lib/errors/app-error";
import { describeTimeRefusal, timeRefusal } from "./sample-bounds";
import type { DecodedSeries } from "./types";
import { dropRepeatedTimes } from "./repeated-times";
import { parseStreamKey } from "./stream-key";
import { streamKey } from "@/lib/schemas/stream";

export type CsvLayout = "long" | "wide";

export interface CsvDecoded {
  layout: CsvLayout;
  series: DecodedSeries[];
  rows: number;
  samples: number;
  /** samples refused for their time */
  refused: number;
  /** the first few refusals: `line L, column C: …` */
  refusedExamples: string[];
  /** samples dropped because their stream has one at the same time earlier in the file (not in `samples`) */
  duplicates: number;
  /** the first few: `<stream> at <time>: N samples, the first in the file kept` */
  duplicateExamples: string[];
  /**
   * Ground-truth columns (`is_anomaly`, `label`, …): kept out of the streams, with how many rows
   * they mark and the time ranges of consecutive marked rows (labels for the file's streams).
   */
  groundTruth: { column: string; marked: number; ranges: { startMs: number; endMs: number }[] }[];
}

/** How a file's generic `value` column is named: after the file, or an explicit metric name. */
export interface CsvNaming {
  file?: string;
  metric?: string;
}

/** Columns that hold evaluation truth, not telemetry: never become streams. */
const GROUND_TRUTH = /^(is_?anomaly|anomaly|label|labels|ground_?truth|is_?outlier|outlier|truth|target|class)$/i;
/** Headers that name no metric: the stream is named by the file (or an explicit metric name). */
const GENERIC = /^(value|values|val|v|y|metric|data|reading|measurement)$/i;

/** A metric name from a file name: `nyc taxi (2014).csv` → `nyc_taxi_2014`. */
export function metricFromFileName(file: string): string {
  const base = file.replace(/^.*[\\/]/, "").replace(/\.[^.]*$/, "");
  const m = base.replace(/[^A-Za-z0-9_:]+/g, "_").replace(/^_+|_+$/g, "").replace(/^(\d)/, "_$1");
  return m.slice(0, 200);
}

export interface CsvLimits {
  maxRows: number;
  maxSeries: number;
}

export const DEFAULT_CSV_LIMITS: CsvLimits = { maxRows: 5_000_000, maxSeries: 50_000 };

/** Refused and duplicate samples named in an answer (the rest are counted). */
const MAX_EXAMPLES = 10;

/** csv-parse options shared by the streaming and the whole-text parser. */
export const CSV_PARSE_OPTIONS = {
  info: true,
  skip_empty_lines: true,
  bom: true,
  relax_column_count: false,
  relax_quotes: true,
  trim: false,
  // one field or record may not hold more than this many characters (a file without newlines)
  max_record_size: 1 << 20,
} as const;

/** Largest epoch-seconds/milliseconds number accepted as a time (year ≈ 275,000, Date's range). */
const MAX_EPOCH_NUMBER = 8.64e15;

export function parseCsvTimestamp(cell: string): number | undefined {
  const s = cell.trim();
  if (s === "") return undefined;
  if (/^-?\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    if (!(Math.abs(n) <= MAX_EPOCH_NUMBER)) return undefined;
    return Math.abs(n) < 1e11 ? Math.round(n * 1000) : Math.round(n);
  }
  const t = Date.parse(s.includes("T") || !s.includes(" ") ? s : s.replace(" ", "T"));
  return Number.isNaN(t) ? undefined : t;
}

/** A cell's number (NaN and ±Inf spelled out are numbers too); undefined when empty; null when it is no number. */
function parseValue(cell: string): number | undefined | null {
  const s = cell.trim();
  if (s === "") return undefined;
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  if (/^nan$/i.test(s)) return Number.NaN;
  if (/^[-+]?inf(inity)?$/i.test(s)) return s.startsWith("-") ? -Infinity : Infinity;
  return null;
}

/** `line`: a line number, or `L, column C`. */
const fail = (line: number | string, msg: string): never => {
  throw new AppError("BAD_REQUEST", `CSV line ${line}: ${msg} Nothing from this file was stored.`);
};

/** Record by record (csv-parse `info: true` output) into series. */
export class CsvReader {
  private layout: CsvLayout | null = null;
  private columns: string[] = [];
  /** series by stream key (`streamKey`), and by the names the file spells them with */
  private readonly bySeries = new Map<string, DecodedSeries>();
  private readonly byName = new Map<string, DecodedSeries>();
  private rows = 0;
  private samples = 0;
  private refused = 0;
  private readonly refusedExamples: string[] = [];
  /** wide layout: ground-truth columns by column index */
  private readonly truthCols = new Map<number, { column: string; marked: number }>();
  /** with ground-truth columns: every row's time and, per truth column, its marked rows */
  private rowTimes: number[] = [];
  private readonly truthRows = new Map<number, number[]>();

  constructor(
    private readonly nowMs: number,
    private readonly limits: CsvLimits = DEFAULT_CSV_LIMITS,
    private readonly naming: CsvNaming = {},
  ) {}

  /** One record; `line` is where it starts in the file (1-based). */
  add(record: string[], line: number): void {
    if (this.layout === null) {
      this.header(record);
      return;
    }
    if (++this.rows > this.limits.maxRows) fail(line, `the file has more than ${this.limits.maxRows} data rows; split it.`);
    const t = parseCsvTimestamp(record[0] ?? "");
    if (t === undefined) fail(line, `timestamp "${(record[0] ?? "").slice(0, 40)}" in column 1 is not ISO-8601 or epoch seconds/milliseconds.`);
    const refusal = timeRefusal(t!, this.nowMs);
    if (this.layout === "long") {
      const name = (record[1] ?? "").trim();
      if (!name) fail(line, "the stream column is empty.");
      const v = parseValue(record[2] ?? "");
      if (v === undefined) return;
      if (v === null) fail(line, `value "${(record[2] ?? "").slice(0, 40)}" in column 3 is not a number.`);
      const s = this.seriesFor(name, line, 2);
      if (refusal) this.refuse(line, refusal, t!);
      else this.push(s, t!, v!);
      return;
    }
    const columns = this.columns;
    if (this.truthCols.size && !refusal) this.rowTimes.push(t!);
    for (let c = 0; c < columns.length; c++) {
      const cell = record[c + 1] ?? "";
      const truth = this.truthCols.get(c);
      if (truth) {
        if (/^(1|true|yes|anomaly|t)$/i.test(cell.trim())) {
          truth.marked++;
          if (!refusal) this.truthRows.get(c)!.push(this.rowTimes.length - 1);
        }
        continue;
      }
      const v = parseValue(cell);
      if (v === undefined) continue;
      if (v === null) fail(line, `value "${cell.slice(0, 40)}" in column ${c + 2} ("${columns[c]!.slice(0, 60)}") is not a number.`);
      // a column's stream is named by the header (line 1), read at its first value
      const s = this.seriesFor(columns[c]!, 1, c + 2);
      if (refusal) this.refuse(line, refusal, t!);
      else this.push(s, t!, v!);
    }
  }

  /** The file's series; throws when it had no header. */
  finish(): CsvDecoded {
    if (this.layout === null) throw new AppError("BAD_REQUEST", "The CSV file is empty: expected a header row `timestamp,stream,value` or `timestamp,<stream>,…`.");
    const series = [...this.bySeries.values()];
    let duplicates = 0;
    const duplicateExamples: string[] = [];
    for (const s of series) {
      const r = dropRepeatedTimes(s);
      duplicates += r.dropped;
      for (const x of r.examples) {
        if (duplicateExamples.length < MAX_EXAMPLES) duplicateExamples.push(`${streamKey(s.metric, s.labels).slice(0, 120)} at ${new Date(x.tsMs).toISOString()}: ${x.given} samples, the first in the file kept`);
      }
    }
    return {
      layout: this.layout,
      series,
      rows: this.rows,
      samples: this.samples - duplicates,
      refused: this.refused,
      refusedExamples: this.refusedExamples,
      duplicates,
      duplicateExamples,
      groundTruth: [...this.truthCols].map(([c, t]) => ({ ...t, ranges: truthRanges(this.rowTimes, this.truthRows.get(c) ?? []) })),
    };
  }

  private header(record: string[]): void {
    // before any work per column: a header of a million columns was half a second of event loop
    if (record.length - 1 > this.limits.maxSeries) fail(1, `more than ${this.limits.maxSeries} stream columns.`);
    const header = record.map((h) => h.trim());
    if (header[0]?.toLowerCase() !== "timestamp") {
      fail(1, `the first column must be "timestamp" (found "${(header[0] ?? "").slice(0, 40)}"). Use \`timestamp,stream,value\` (long) or \`timestamp,<stream>,…\` (wide).`);
    }
    const lower = header.map((h) => h.toLowerCase());
    const isLong = header.length === 3 && lower[1] === "stream" && lower[2] === "value";
    this.layout = isLong ? "long" : "wide";
    if (isLong) return;
    const generic = header.slice(1).filter((x) => GENERIC.test(x)).length;
    const named = (h: string): string => {
      if (!GENERIC.test(h)) return h;
      const m = this.naming.metric?.trim() || (this.naming.file ? metricFromFileName(this.naming.file) : "");
      // Several generic columns in one file stay apart: `<file>_<column>`.
      return m ? (generic > 1 ? `${m}_${h}` : m) : h;
    };
    this.columns = header.slice(1).map((h, i) => {
      if (!h) fail(1, `column ${i + 2} has an empty header; every column after "timestamp" names a stream.`);
      if (GROUND_TRUTH.test(h)) {
        this.truthCols.set(i, { column: h, marked: 0 });
        this.truthRows.set(i, []);
      }
      return named(h);
    });
    if (this.columns.length - this.truthCols.size <= 0) fail(1, 'no stream columns after "timestamp".');
    // two columns of one stream (`m{a="1",b="2"}` and `m{b="2",a="1"}`) would lose the second's samples
    const seen = new Map<string, string>();
    for (const c of this.columns) {
      const key = keyOf(c);
      const first = seen.get(key);
      if (first === c) fail(1, `column "${c.slice(0, 60)}" appears twice.`);
      if (first !== undefined) fail(1, `columns "${first.slice(0, 60)}" and "${c.slice(0, 60)}" name the same stream.`);
      seen.set(key, c);
    }
  }

  /**
   * The series `name` names: spellings of one stream key (label order, spaces) are one series.
   * `line` and `column` are where the name is written (errors point there).
   */
  private seriesFor(name: string, line: number, column: number): DecodedSeries {
    let s = this.byName.get(name);
    if (s) return s;
    // distinct spellings bound the map as distinct streams did (a spelling names one stream)
    if (this.byName.size >= this.limits.maxSeries) fail(line, `more than ${this.limits.maxSeries} distinct streams in one file.`);
    let parsed: { metric: string; labels: Record<string, string> } = { metric: "", labels: {} };
    try {
      parsed = parseStreamKey(name);
    } catch (e) {
      fail(`${line}, column ${column}`, (e as Error).message);
    }
    if (!parsed.metric) fail(`${line}, column ${column}`, "empty stream name.");
    const key = streamKey(parsed.metric, parsed.labels);
    s = this.bySeries.get(key);
    if (!s) this.bySeries.set(key, (s = { metric: parsed.metric, labels: parsed.labels, kind: "gauge", group: "csv", tsMs: [], values: [] }));
    this.byName.set(name, s);
    return s;
  }

  private push(s: DecodedSeries, t: number, v: number): void {
    s.tsMs.push(t);
    s.values.push(v);
    this.samples++;
  }

  private refuse(line: number, reason: NonNullable<ReturnType<typeof timeRefusal>>, t: number): void {
    if (this.refused++ < MAX_EXAMPLES) this.refusedExamples.push(`line ${line}, column 1: ${describeTimeRefusal(reason, t)}`);
  }
}

/** The stream key a header names, or the header itself when it names none (its error comes with its first value). */
function keyOf(header: string): string {
  try {
    const { metric, labels } = parseStreamKey(header);
    return streamKey(metric, labels);
  } catch {
    return header;
  }
}

/**
 * Time ranges of runs of marked rows: rows in time order, a run is broken by any unmarked row
 * between; each range spans its first to its last marked row's time.
 */
export function truthRanges(rowTimes: readonly number[], marked: readonly number[]): { startMs: number; endMs: number }[] {
  if (marked.length === 0) return [];
  const order = Array.from(rowTimes.keys()).sort((a, b) => rowTimes[a]! - rowTimes[b]!);
  const isMarked = new Uint8Array(rowTimes.length);
  for (const r of marked) isMarked[r] = 1;
  const out: { startMs: number; endMs: number }[] = [];
  let open: { startMs: number; endMs: number } | null = null;
  for (const r of order) {
    const t = rowTimes[r]!;
    if (isMarked[r]) {
      if (open) open.endMs = t;
      else open = { startMs: t, endMs: t };
    } else if (open && t > open.endMs) {
      out.push(open);
      open = null;
    }
  }
  if (open) out.push(open);
  return out;
}

/** A csv-parse error as the AppError the sender sees. */
export function csvSyntaxError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  const err = e as Error & { lines?: number };
  return new AppError("BAD_REQUEST", `CSV is malformed${err.lines ? ` at line ${err.lines}` : ""}: ${err.message}. Nothing from this file was stored.`);
}

/** Parses a whole CSV text (tests and tools; the server streams, see csv-import.ts). */
export function parseCsv(text: string, opts: Partial<CsvLimits> & CsvNaming & { nowMs?: number } = {}): CsvDecoded {
  const reader = new CsvReader(opts.nowMs ?? Date.now(), { ...DEFAULT_CSV_LIMITS, ...opts }, { file: opts.file, metric: opts.metric });
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, CSV_PARSE_OPTIONS) as unknown as typeof records;
  } catch (e) {
    throw csvSyntaxError(e);
  }
  for (const { record, info } of records) reader.add(record, info.lines);
  return reader.finish();
}
