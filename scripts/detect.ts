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
 * `type`, `causes` (on anomalous rows: the streams ranked by contribution, `|`-joined, most
 * likely first) and `p_anomaly_30m` (probability 0–1 that an anomaly opens on the table within
 * 30 minutes). Scoring is strictly causal (row t only sees rows ≤ t) and deterministic.
 * Exactly one output row per input row: a row whose timestamp repeats or goes back is scored as
 * data arriving at the newest time seen (counted on stderr), never dropped. Malformed input
 * stops with a message naming the line and exit code 1; the output is written to a temporary
 * file and renamed only when complete.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ZEngineOptions, type EngineOptionsInput } from "../lib/detectors/options";
import { monotoneTimes } from "../lib/ingest/time-order";
import { parseWideTable, TableError, type WideTable } from "../lib/ingest/wide-table";
import { scoreTableWithInsights } from "../lib/insights/table-insights";

export { indexTimeAxis, INDEX_BASE_MS, INDEX_STEP_MS, parseTimestamp } from "../lib/ingest/wide-table";

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

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** What `run` did, for the summary line and for tests. */
export interface DetectSummary {
  rows: number;
  late: number;
  duplicate: number;
}

export function run(argv: string[], log: (line: string) => void = (l) => process.stderr.write(l + "\n")): DetectSummary {
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
  let table: WideTable;
  try {
    table = parseWideTable(text);
  } catch (e) {
    if (e instanceof TableError) throw new CliError(`${args.input}${e.line ? `:${e.line}` : ""}: ${e.message}`);
    throw e;
  }
  const rows = table.records.length;
  const order = monotoneTimes(table.timestampsMs);
  const res = scoreTableWithInsights({ timestampsMs: order.effectiveMs, columns: table.columns.filter((c) => c.scored).map((c) => ({ name: c.name, values: c.values })) }, config);
  const out: string[] = [];
  // an input column named like an output column keeps its data under an `input_` name, so that
  // every output column name is unique
  const outHeader = table.header.map((h, k) => (k > 0 && OUTPUT_COLUMNS.includes(h.trim().toLowerCase()) ? `input_${h.trim()}` : h));
  out.push([...outHeader, ...OUTPUT_COLUMNS].map(csvCell).join(","));
  for (let r = 0; r < rows; r++) {
    const rec = table.records[r]!;
    out.push(
      [
        ...rec.map(csvCell),
        res.score[r]!.toFixed(2),
        String(res.isAnomaly[r]),
        res.severity[r] ?? "",
        res.type[r] ?? "",
        csvCell(res.causes[r]!.join("|")),
        res.pAnomaly[r]!.toFixed(3),
      ].join(","),
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
  if (order.late || order.duplicate) {
    const parts: string[] = [];
    if (order.late) parts.push(`${order.late} late row${order.late > 1 ? "s" : ""} (timestamp before an earlier row's, first at line ${table.lines[order.firstLate]}, up to ${formatLag(order.maxLateMs)} behind)`);
    if (order.duplicate) parts.push(`${order.duplicate} duplicate timestamp${order.duplicate > 1 ? "s" : ""} (first at line ${table.lines[order.firstDuplicate]})`);
    log(`detect: ${rows} rows scored; ${parts.join(", ")}: scored as data arriving at the newest time seen`);
  }
  return { rows, late: order.late, duplicate: order.duplicate };
}

function formatLag(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

const OUTPUT_COLUMNS = ["anomaly_score", "is_anomaly", "severity", "type", "causes", "p_anomaly_30m"];

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]).replace(/\.ts$/, "") === path.resolve(import.meta.dirname, "detect");
if (isMain) {
  try {
    run(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`detect: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
