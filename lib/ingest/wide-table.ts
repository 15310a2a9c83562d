/**
 * The detection CLI's input table (`timestamp,<stream>,…`, one row per timestamp), parsed into
 * columns for `scoreTable`. Shared by `npm run detect` and `npm run eval -- --corpus` so that the
 * evaluation scores exactly what the CLI scores. Pure: text in, columns out.
 *
 * Timestamps: ISO 8601 (also `2015/09/01 00:00`), epoch seconds or milliseconds; a column of row
 * numbers is read as an hourly axis (see `indexTimeAxis`). An empty cell (or NaN, NA, null, None)
 * is a missing value. Ground-truth columns (`is_anomaly`, `label`, …) are carried, not scored.
 * Rows whose timestamp repeats or goes back are kept (see `time-order.ts`).
 */
import { parse } from "csv-parse/sync";

/** A problem with the input, naming its line (1-based, as an editor shows it) when there is one. */
export class TableError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;
export const NUM_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** Missing-value markers other tools write (numpy `nan`, R `NA`, JSON-ish `null`): like an empty cell. */
const MISSING_RE = /^(nan|na|n\/a|null|none)$/i;
/** Ground-truth columns of labelled files (e.g. `timestamp,value,is_anomaly`): carried, not scored. */
export const LABEL_COLUMNS: ReadonlySet<string> = new Set(["is_anomaly", "anomaly", "label", "is_anomalous", "ground_truth"]);

/**
 * A timestamp column holding row numbers (0/1, 2, 3, … — common in exported benchmark series)
 * would read as epoch seconds in January 1970, i.e. one-second steps, and no hourly/daily/weekly
 * season could ever be found. Such a column (integers only, all below 1e8, consecutive rows
 * one apart) is taken as a row index and rows are spaced one hour apart from a Monday, so a
 * 24-row (daily) or 168-row (weekly) cycle is learnt as a season. Scores stay per row.
 */
export const INDEX_STEP_MS = 3_600_000;
export const INDEX_BASE_MS = Date.UTC(2024, 0, 1); // a Monday

export function indexTimeAxis(raw: readonly string[]): Float64Array | null {
  if (raw.length < 2) return null;
  const out = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const t = raw[i]!.trim();
    if (!/^\d+$/.test(t)) return null;
    const v = Number(t);
    if (v >= 1e8) return null;
    if (i > 0 && v - Number(raw[i - 1]!.trim()) !== 1) return null;
    out[i] = INDEX_BASE_MS + v * INDEX_STEP_MS;
  }
  return out;
}

/**
 * ISO 8601 (also with `/` date separators, `2015/09/01 00:00`: year first, so unambiguous) or
 * epoch seconds (< 1e11) / milliseconds → ms; NaN when unparsable. Day-first or month-first
 * dates (`09/01/2015`) are refused rather than guessed.
 */
export function parseTimestamp(s: string): number {
  const raw = s.trim();
  const t = /^\d{4}\/\d{2}\/\d{2}/.test(raw) ? raw.slice(0, 10).replace(/\//g, "-") + raw.slice(10) : raw;
  if (NUM_RE.test(t)) {
    const v = Number(t);
    return Math.abs(v) < 1e11 ? v * 1000 : v;
  }
  if (ISO_RE.test(t)) {
    // date-only / no zone → UTC
    const iso = /[zZ]|[+-]\d{2}:?\d{2}$/.test(t) || t.length <= 10 ? t : t + "Z";
    const v = Date.parse(iso.replace(" ", "T"));
    return Number.isFinite(v) ? v : NaN;
  }
  return NaN;
}

export interface WideTable {
  /** Header cells as written (the first is `timestamp`). */
  header: string[];
  /** Data rows as written, and the line each starts on. */
  records: string[][];
  lines: number[];
  /** Row times in ms, in file order (may repeat or go back), or the index axis. */
  timestampsMs: Float64Array;
  /** Every column after `timestamp`, and whether it is scored (not a ground-truth label). */
  columns: { name: string; values: Float64Array; scored: boolean }[];
}

export function parseWideTable(text: string): WideTable {
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(text, { info: true, skip_empty_lines: true, bom: true, relax_column_count: false }) as unknown as typeof parsed;
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    throw new TableError(`malformed CSV: ${e instanceof Error ? e.message : String(e)}`, line);
  }
  if (parsed.length === 0) throw new TableError(`empty file (expected a header row starting with "timestamp")`);
  const headLine = parsed[0]!.info.lines;
  const header = parsed[0]!.record;
  const names = header.map((h) => h.trim());
  if (names[0]?.toLowerCase() !== "timestamp") throw new TableError(`no header row: the first column must be named "timestamp" (got "${names[0] ?? ""}")`, headLine);
  if (names.length < 2) throw new TableError(`header needs at least one stream column after "timestamp"`, headLine);
  const seen = new Set<string>();
  for (const n of names.slice(1)) {
    if (n === "") throw new TableError(`empty column name in header`, headLine);
    if (seen.has(n)) throw new TableError(`duplicate column "${n}"`, headLine);
    seen.add(n);
  }
  // a 0/1 label scored as a stream would leak the answer into the score
  const columnNames = names.slice(1);
  const scored = columnNames.map((n) => !LABEL_COLUMNS.has(n.toLowerCase()));
  if (!scored.some(Boolean)) {
    const list = columnNames.map((n) => `"${n}"`).join(", ");
    throw new TableError(`no stream column to score: ${list} ${columnNames.length > 1 ? "are ground-truth labels" : "is a ground-truth label"}`, headLine);
  }
  const rows = parsed.length - 1;
  const ts = new Float64Array(rows);
  const columns = columnNames.map((name, k) => ({ name, values: new Float64Array(rows), scored: scored[k]! }));
  const records: string[][] = new Array<string[]>(rows);
  const lines: number[] = new Array<number>(rows);
  for (let r = 0; r < rows; r++) {
    const { record, info } = parsed[r + 1]!;
    records[r] = record;
    lines[r] = info.lines;
    const t = parseTimestamp(record[0] ?? "");
    if (!Number.isFinite(t)) throw new TableError(`unparsable timestamp "${record[0] ?? ""}"`, info.lines);
    ts[r] = t;
    for (let k = 0; k < columns.length; k++) {
      const cell = (record[k + 1] ?? "").trim();
      if (cell === "" || MISSING_RE.test(cell)) {
        columns[k]!.values[r] = NaN;
        continue;
      }
      if (!NUM_RE.test(cell)) throw new TableError(`non-numeric value "${cell}" in column "${columnNames[k]}"`, info.lines);
      columns[k]!.values[r] = Number(cell);
    }
  }
  const indexAxis = indexTimeAxis(records.map((r) => r[0] ?? ""));
  return { header, records, lines, timestampsMs: indexAxis ?? ts, columns };
}
