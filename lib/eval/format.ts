/** Plain-text tables for eval reports (pure string building). */
import type { DetectionMetrics } from "./metrics";
import type { EvalReport } from "./run";

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return "—";
  if (sec < 60) return `${Math.round(sec)}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m${String(Math.round(sec % 60)).padStart(2, "0")}s`;
  const h = Math.floor(sec / 3600);
  return `${h}h${String(Math.round((sec % 3600) / 60)).padStart(2, "0")}m`;
}

function num(x: number, digits = 3): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "—";
}

function fprText(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : "—";
}

const HEADER = ["scenario", "P", "R", "F1", "FPR", "FA/day", "delay mean", "delay med", "TP/pred ev", "det/win"];

function row(name: string, m: DetectionMetrics): string[] {
  return [
    name,
    num(m.precision),
    num(m.recall),
    num(m.f1),
    fprText(m.fpr),
    num(m.falseAlarmsPerDay, 2),
    formatDuration(m.detectionDelaySec),
    formatDuration(m.detectionDelayMedianSec),
    `${m.truePositiveEvents}/${m.predictedEvents}`,
    `${m.detectedWindows}/${m.truthWindows}`,
  ];
}

export function renderTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  const line = (r: string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join("  ");
  const sep = widths.map((w) => "-".repeat(w)).join("  ");
  const [head, ...body] = rows;
  return [line(head ?? []), sep, ...body.slice(0, -1).map(line), sep, line(body[body.length - 1] ?? [])].join("\n");
}

/** One table for one detector: a row per scenario and an OVERALL (micro-averaged) row. */
export function formatDetectorTable(report: EvalReport, detectorId: string, title: string): string {
  const rows: string[][] = [HEADER];
  for (const s of report.scenarios) {
    const r = s.results[detectorId];
    if (!r) continue;
    rows.push(r.error ? [s.name, `ERROR: ${r.error}`, "", "", "", "", "", "", "", ""] : row(s.name, r.metrics));
  }
  const o = report.overall[detectorId];
  if (o) rows.push(row("OVERALL (micro)", o.metrics));
  const adapt = report.scenarios
    .filter((s) => s.hasRegimeChange && s.results[detectorId]?.adaptation)
    .map((s) => {
      const a = s.results[detectorId]?.adaptation;
      return a ? `${s.name}: ${a.adapted ? formatDuration(a.sec) : `not adapted within ${formatDuration(a.horizonSec)}`}` : "";
    });
  const lines = [`== ${title} ==`, renderTable(rows)];
  if (adapt.length) lines.push(`adaptation time after regime change: ${adapt.join("; ")}`);
  if (o) lines.push(`runtime: ${(o.runtimeMs / 1000).toFixed(1)} s`);
  return lines.join("\n");
}
