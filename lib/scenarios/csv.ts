/**
 * CSV in the CLI's input format: header `timestamp,<stream...>`, one row per timestamp,
 * an empty cell for a missing value. Labels go to a separate CSV. Pure: returns strings.
 */
import type { Scenario } from "./types";

/** `ms` = epoch milliseconds, `iso` = ISO-8601 UTC (`2025-03-03T00:00:00.000Z`). */
export type CsvTimeFormat = "ms" | "iso";

function formatValue(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "";
  if (Number.isInteger(v)) return String(v);
  return String(Math.round(v * 1e4) / 1e4);
}

function formatTime(t: number, format: CsvTimeFormat): string {
  return format === "iso" ? new Date(t).toISOString() : String(t);
}

function quote(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function scenarioToCsv(s: Scenario, opts: { time?: CsvTimeFormat } = {}): string {
  const format = opts.time ?? "ms";
  const lines: string[] = [["timestamp", ...s.columns.map((c) => quote(c.name))].join(",")];
  for (let i = 0; i < s.timestampsMs.length; i++) {
    const cells = [formatTime(s.timestampsMs[i] ?? 0, format)];
    for (const c of s.columns) cells.push(formatValue(c.values[i]));
    lines.push(cells.join(","));
  }
  return lines.join("\n") + "\n";
}

/**
 * Ground truth: `start,end,kind,streams,description` with inclusive row timestamps in the same
 * time format as the data file; `streams` is `;`-separated. A persistent regime change is the
 * window of kind `regime-change` (only its first part is anomalous; afterwards it is normal).
 */
export function labelsToCsv(s: Scenario, opts: { time?: CsvTimeFormat } = {}): string {
  const format = opts.time ?? "ms";
  const lines = ["start,end,kind,streams,description"];
  for (const w of s.anomalies) {
    lines.push(
      [formatTime(w.startMs, format), formatTime(w.endMs, format), w.kind, quote(w.streams.join(";")), quote(w.description)].join(","),
    );
  }
  return lines.join("\n") + "\n";
}
