/**
 * CSV import, two layouts (detected from the header):
 * - long:  `timestamp,stream,value` — one sample per row; `stream` is a metric name or a full
 *          stream key such as `http_requests{job="api"}`.
 * - wide:  `timestamp,<stream>,<stream>,…` — the detection CLI's input format: one row per
 *          timestamp, one column per stream, an empty cell for a missing value.
 * Timestamps are ISO-8601 or epoch seconds / milliseconds (numbers below 1e11 are seconds).
 * Errors name the line (1-based, as an editor shows it) and column.
 */
import { parse } from "csv-parse/sync";
import { AppError } from "@/lib/errors/app-error";
import type { DecodedSeries } from "./types";
import { parseStreamKey } from "./stream-key";

export type CsvLayout = "long" | "wide";

export interface CsvDecoded {
  layout: CsvLayout;
  series: DecodedSeries[];
  rows: number;
  samples: number;
  /** Ground-truth columns (`is_anomaly`, `label`, …): kept out of the streams, with how many rows they mark. */
  groundTruth: { column: string; marked: number }[];
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

export function parseCsvTimestamp(cell: string): number | undefined {
  const s = cell.trim();
  if (s === "") return undefined;
  if (/^-?\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    return Math.abs(n) < 1e11 ? Math.round(n * 1000) : Math.round(n);
  }
  const t = Date.parse(s.includes("T") || !s.includes(" ") ? s : s.replace(" ", "T"));
  return Number.isNaN(t) ? undefined : t;
}

function parseValue(cell: string): number | undefined {
  const s = cell.trim();
  if (s === "") return undefined;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number.NaN;
  return Number(s);
}

const fail = (line: number, msg: string): never => {
  throw new AppError("BAD_REQUEST", `CSV line ${line}: ${msg} Nothing from this file was stored.`);
};

/** Parses a whole CSV text; all-or-nothing (the first error aborts with its line number). */
export function parseCsv(text: string, opts: { maxRows?: number; maxSeries?: number; file?: string; metric?: string } = {}): CsvDecoded {
  const maxRows = opts.maxRows ?? 5_000_000;
  const maxSeries = opts.maxSeries ?? 50_000;
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { info: true, skip_empty_lines: true, bom: true, relax_column_count: false, relax_quotes: true, trim: false }) as unknown as typeof records;
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new AppError("BAD_REQUEST", `CSV is malformed${err.lines ? ` at line ${err.lines}` : ""}: ${err.message}. Nothing from this file was stored.`);
  }
  if (records.length === 0) throw new AppError("BAD_REQUEST", "The CSV file is empty: expected a header row `timestamp,stream,value` or `timestamp,<stream>,…`.");
  const header = records[0]!.record.map((h) => h.trim());
  if (header[0]?.toLowerCase() !== "timestamp") {
    fail(1, `the first column must be "timestamp" (found "${(header[0] ?? "").slice(0, 40)}"). Use \`timestamp,stream,value\` (long) or \`timestamp,<stream>,…\` (wide).`);
  }
  if (records.length - 1 > maxRows) fail(maxRows + 2, `the file has more than ${maxRows} data rows; split it.`);
  const lower = header.map((h) => h.toLowerCase());
  const isLong = header.length === 3 && lower[1] === "stream" && lower[2] === "value";
  const bySeries = new Map<string, DecodedSeries>();
  const seriesFor = (name: string, line: number): DecodedSeries => {
    let s = bySeries.get(name);
    if (!s) {
      if (bySeries.size >= maxSeries) fail(line, `more than ${maxSeries} distinct streams in one file.`);
      let parsed: { metric: string; labels: Record<string, string> } = { metric: "", labels: {} };
      try {
        parsed = parseStreamKey(name);
      } catch (e) {
        fail(line, (e as Error).message);
      }
      if (!parsed.metric) fail(line, `empty stream name.`);
      bySeries.set(name, (s = { metric: parsed.metric, labels: parsed.labels, kind: "gauge", group: "csv", tsMs: [], values: [] }));
    }
    return s;
  };
  let samples = 0;
  const truthCols = new Map<number, { column: string; marked: number }>();
  const named = (h: string): string => {
    if (!GENERIC.test(h)) return h;
    const m = opts.metric?.trim() || (opts.file ? metricFromFileName(opts.file) : "");
    // Several generic columns in one file stay apart: `<file>_<column>`.
    const generic = header.slice(1).filter((x) => GENERIC.test(x)).length;
    return m ? (generic > 1 ? `${m}_${h}` : m) : h;
  };
  const columns = isLong ? [] : header.slice(1).map((h, i) => {
    if (!h) fail(1, `column ${i + 2} has an empty header; every column after "timestamp" names a stream.`);
    if (GROUND_TRUTH.test(h)) truthCols.set(i, { column: h, marked: 0 });
    return named(h);
  });
  if (!isLong && columns.length - truthCols.size <= 0) fail(1, "no stream columns after \"timestamp\".");
  if (!isLong) {
    const dup = columns.find((c, i) => columns.indexOf(c) !== i);
    if (dup) fail(1, `column "${dup}" appears twice.`);
  }
  for (let r = 1; r < records.length; r++) {
    const { record, info } = records[r]!;
    const line = info.lines;
    const t = parseCsvTimestamp(record[0] ?? "");
    if (t === undefined) fail(line, `timestamp "${(record[0] ?? "").slice(0, 40)}" is not ISO-8601 or epoch seconds/milliseconds.`);
    if (isLong) {
      const name = (record[1] ?? "").trim();
      if (!name) fail(line, "the stream column is empty.");
      const v = parseValue(record[2] ?? "");
      if (v === undefined) continue;
      if (Number.isNaN(v)) fail(line, `value "${(record[2] ?? "").slice(0, 40)}" in column 3 is not a number.`);
      const s = seriesFor(name, line);
      s.tsMs.push(t!);
      s.values.push(v);
      samples++;
    } else {
      for (let c = 0; c < columns.length; c++) {
        const cell = record[c + 1] ?? "";
        const truth = truthCols.get(c);
        if (truth) {
          if (/^(1|true|yes|anomaly|t)$/i.test(cell.trim())) truth.marked++;
          continue;
        }
        const v = parseValue(cell);
        if (v === undefined) continue;
        if (Number.isNaN(v)) fail(line, `value "${cell.slice(0, 40)}" in column ${c + 2} ("${columns[c]!.slice(0, 60)}") is not a number.`);
        const s = seriesFor(columns[c]!, line);
        s.tsMs.push(t!);
        s.values.push(v);
        samples++;
      }
    }
  }
  return { layout: isLong ? "long" : "wide", series: [...bySeries.values()], rows: records.length - 1, samples, groundTruth: [...truthCols.values()] };
}
