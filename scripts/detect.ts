/**
 * Command-line scorer: reads a CSV of streams, writes it back with anomaly columns.
 *
 *   npm run -s detect -- --in data.csv --out scored.csv [--config config.json]
 *
 * Input: a header row whose first column is `timestamp` (ISO 8601, or epoch seconds / ms), then
 * one column per stream (`value` for a single stream); an empty cell (or NaN, NA, null, None)
 * is a missing value. A ground-truth column (`is_anomaly`, `anomaly`, `label`, `is_anomalous`,
 * `ground_truth`) is carried through, not scored; an input column named like an output column
 * is renamed `input_…`.
 * Output: the input columns plus `anomaly_score` (0–100), `is_anomaly` (0/1), `severity`,
 * `type`. Scoring is strictly causal (row t only sees rows ≤ t) and deterministic. Malformed
 * input stops with a message naming the line and exit code 1; the output is written to a
 * temporary file and renamed only when complete.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { ZEngineOptions, type EngineOptionsInput } from "../lib/detectors/options";
import { scoreTable } from "../lib/detectors/score-table";

class CliError extends Error {}

interface Args {
  input: string;
  output: string;
  config?: string;
}

const USAGE = "usage: npm run -s detect -- --in data.csv --out scored.csv [--config config.json]";

function parseArgs(argv: string[]): Args {
  let input: string | undefined;
  let output: string | undefined;
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new CliError(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === "--in") input = val();
    else if (a === "--out") output = val();
    else if (a === "--config") config = val();
    else if (a === "--help" || a === "-h") {
      process.stdout.write(USAGE + "\n");
      process.exit(0);
    } else throw new CliError(`unknown argument: ${a}\n${USAGE}`);
  }
  if (!input || !output) throw new CliError(`--in and --out are required\n${USAGE}`);
  return { input, output, config };
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const NUM_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** Missing-value markers other tools write (numpy `nan`, R `NA`, JSON-ish `null`): like an empty cell. */
const MISSING_RE = /^(nan|na|n\/a|null|none)$/i;

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

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

export function run(argv: string[]): void {
  const args = parseArgs(argv);
  let config: EngineOptionsInput = {};
  if (args.config) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(args.config, "utf8"));
    } catch (e) {
      throw new CliError(`cannot read config ${args.config}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const r = ZEngineOptions.safeParse(raw);
    if (!r.success) {
      const msg = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
      throw new CliError(`invalid config ${args.config}: ${msg}`);
    }
    config = raw as EngineOptionsInput;
  }
  let text: string;
  try {
    text = readFileSync(args.input, "utf8");
  } catch (e) {
    throw new CliError(`cannot read ${args.input}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let records: ParsedRecord[];
  try {
    records = parse(text, { info: true, skip_empty_lines: true, bom: true, relax_column_count: false }) as unknown as ParsedRecord[];
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    throw new CliError(`${args.input}${line ? `:${line}` : ""}: malformed CSV: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (records.length === 0) throw new CliError(`${args.input}: empty file (expected a header row starting with "timestamp")`);
  const header = records[0]!.record.map((h) => h.trim());
  if (header[0]?.toLowerCase() !== "timestamp") {
    throw new CliError(`${args.input}:${records[0]!.info.lines}: no header row: the first column must be named "timestamp" (got "${header[0] ?? ""}")`);
  }
  if (header.length < 2) throw new CliError(`${args.input}:${records[0]!.info.lines}: header needs at least one stream column after "timestamp"`);
  const names = header.slice(1);
  const seen = new Set<string>();
  for (const n of names) {
    if (n === "") throw new CliError(`${args.input}:${records[0]!.info.lines}: empty column name in header`);
    if (seen.has(n)) throw new CliError(`${args.input}:${records[0]!.info.lines}: duplicate column "${n}"`);
    seen.add(n);
  }
  // A labelled file's ground-truth column is carried through, not scored as a stream (a 0/1
  // label scored as a stream would leak the answer into the score)
  const scored = names.map((n) => !LABEL_COLUMNS.has(n.toLowerCase()));
  if (!scored.some(Boolean)) {
    throw new CliError(`${args.input}:${records[0]!.info.lines}: no stream column to score: ${names.map((n) => `"${n}"`).join(", ")} ${names.length > 1 ? "are" : "is a"} ground-truth label${names.length > 1 ? "s" : ""}`);
  }
  const rows = records.length - 1;
  const ts = new Float64Array(rows);
  const cols = names.map((name) => ({ name, values: new Float64Array(rows) }));
  let last = -Infinity;
  for (let r = 0; r < rows; r++) {
    const { record, info } = records[r + 1]!;
    const line = info.lines;
    const t = parseTimestamp(record[0] ?? "");
    if (!Number.isFinite(t)) throw new CliError(`${args.input}:${line}: unparsable timestamp "${record[0] ?? ""}"`);
    if (t < last) throw new CliError(`${args.input}:${line}: timestamp goes backwards ("${record[0]}")`);
    last = t;
    ts[r] = t;
    for (let k = 0; k < names.length; k++) {
      const cell = (record[k + 1] ?? "").trim();
      if (cell === "" || MISSING_RE.test(cell)) {
        cols[k]!.values[r] = NaN;
        continue;
      }
      if (!NUM_RE.test(cell)) throw new CliError(`${args.input}:${line}: non-numeric value "${cell}" in column "${names[k]}"`);
      cols[k]!.values[r] = Number(cell);
    }
  }
  const indexAxis = indexTimeAxis(records.slice(1).map((r) => r.record[0] ?? ""));
  const res = scoreTable({ timestampsMs: indexAxis ?? ts, columns: cols.filter((_, k) => scored[k]) }, config);
  const out: string[] = [];
  // an input column named like an output column keeps its data under an `input_` name, so that
  // every output column name is unique
  const outHeader = records[0]!.record.map((h, k) => (k > 0 && OUTPUT_COLUMNS.includes(h.trim().toLowerCase()) ? `input_${h.trim()}` : h));
  out.push([...outHeader, ...OUTPUT_COLUMNS].map(csvCell).join(","));
  for (let r = 0; r < rows; r++) {
    const rec = records[r + 1]!.record;
    out.push(
      [...rec.map(csvCell), res.score[r]!.toFixed(2), String(res.isAnomaly[r]), res.severity[r] ?? "", res.type[r] ?? ""].join(","),
    );
  }
  const dir = path.dirname(path.resolve(args.output));
  const tmp = path.join(dir, `.${path.basename(args.output)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, out.join("\n") + "\n");
    renameSync(tmp, args.output);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CliError(`cannot write ${args.output}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Ground-truth columns of labelled files (e.g. `timestamp,value,is_anomaly`): carried, not scored. */
const LABEL_COLUMNS = new Set(["is_anomaly", "anomaly", "label", "is_anomalous", "ground_truth"]);
const OUTPUT_COLUMNS = ["anomaly_score", "is_anomaly", "severity", "type"];

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]).replace(/\.ts$/, "") === path.resolve(import.meta.dirname, "detect");
if (isMain) {
  try {
    run(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`detect: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
