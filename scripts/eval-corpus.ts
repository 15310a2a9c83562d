/**
 * `npm run eval -- --corpus DIR`: scores a labelled corpus with Omen's detector in-process (the
 * same table parsing, time ordering and `scoreTable` path as `npm run detect`) and Omen's own
 * scorers (`lib/eval/nab-score.ts`, `range-score.ts`, `insight-metrics.ts`). Two layouts:
 * - NAB: `data/**.csv` (`timestamp,value`), `labels/combined_windows.json`,
 *   `config/profiles.json`, optionally `labels/combined_labels.json` (anomaly instants);
 * - wide: `manifest.json` listing files (`.csv` or `.csv.gz`, `timestamp,<stream>…,is_anomaly`)
 *   with `firstTestRow`, `events` (inclusive row ranges) and optional `interpretation`
 *   (`{rows, streams}` per event: the streams involved).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { z } from "zod";
import { nabScore, type NabAtThreshold, type NabCostMatrix, type NabFile } from "../lib/eval/nab-score";
import { meanRange, rangeScore, RANGE_METRICS, type RangeFileResult } from "../lib/eval/range-score";
import {
  addPredictionCounts,
  countPredictions,
  explainEvent,
  summariseExplanations,
  summarisePredictions,
  type EventExplanation,
  type PredictionCounts,
} from "../lib/eval/insight-metrics";
import { monotoneTimes } from "../lib/ingest/time-order";
import { parseTimestamp, parseWideTable, TableError, type WideTable } from "../lib/ingest/wide-table";
import { scoreTableWithInsights, type TableInsights } from "../lib/insights/table-insights";
import type { EngineOptionsInput } from "../lib/detectors/options";

/** Omen's declared alert threshold (severity low) and prediction threshold. */
export const DECLARED_THRESHOLD = 60;
export const PREDICTION_THRESHOLD = 0.5;

export type CorpusLayout = "nab" | "wide";

export function corpusLayout(dir: string): CorpusLayout {
  if (existsSync(path.join(dir, "labels", "combined_windows.json")) && existsSync(path.join(dir, "data"))) return "nab";
  if (existsSync(path.join(dir, "manifest.json"))) return "wide";
  throw new Error(`${dir}: not a labelled corpus: expected labels/combined_windows.json + data/ + config/profiles.json (NAB layout) or manifest.json (wide layout); see docs/eval.md`);
}

interface ScoredFile {
  insights: TableInsights;
  /** Scores as the CLI writes them (two decimals), 0..1. */
  score01: Float64Array;
  timestampsMs: Float64Array;
  /** The times the engine scored at (`monotoneTimes`: a late or repeated row at the newest time). */
  effectiveMs: Float64Array;
  late: number;
  duplicate: number;
}

function readText(file: string): string {
  const buf = readFileSync(file);
  return (file.endsWith(".gz") ? gunzipSync(buf) : buf).toString("utf8");
}

function readTable(file: string): WideTable {
  try {
    return parseWideTable(readText(file));
  } catch (e) {
    if (e instanceof TableError) throw new Error(`${file}${e.line ? `:${e.line}` : ""}: ${e.message}`);
    throw e;
  }
}

function scoreFile(table: WideTable, keepEvidence: boolean, config: EngineOptionsInput | undefined): ScoredFile {
  const order = monotoneTimes(table.timestampsMs);
  const insights = scoreTableWithInsights(
    { timestampsMs: order.effectiveMs, columns: table.columns.filter((c) => c.scored).map((c) => ({ name: c.name, values: c.values })) },
    config,
    { keepContributions: keepEvidence },
  );
  const score01 = Float64Array.from(insights.score, (s) => Number(s.toFixed(2)) / 100);
  return { insights, score01, timestampsMs: table.timestampsMs, effectiveMs: order.effectiveMs, late: order.late, duplicate: order.duplicate };
}

const ZProfiles = z.record(z.string(), z.object({ CostMatrix: z.object({ tpWeight: z.number(), fnWeight: z.number(), fpWeight: z.number() }) }));
const ZWindows = z.record(z.string(), z.array(z.tuple([z.string(), z.string()])));

function ts(s: string, where: string): number {
  const t = parseTimestamp(s);
  if (!Number.isFinite(t)) throw new Error(`${where}: unparsable timestamp "${s}"`);
  return t;
}

function nabAt(a: NabAtThreshold) {
  const w = a.windowLevel;
  return {
    // NAB's sweep starts "above every score" (1.1): that threshold never alarms
    threshold: a.threshold > 1 ? null : Math.round(a.threshold * 10_000) / 100,
    score: a.score,
    windowsDetected: w.detected,
    windows: w.windows,
    falseAlarmRows: w.fpPoints,
    precision: w.precision,
    recall: w.recall,
    f1: w.f1,
    falseAlarmsPerDay: w.falseAlarmsPerDay,
    detectionDelayMinMean: w.detectionDelayMinMean,
    detectionDelayMinMedian: w.detectionDelayMinMedian,
  };
}

export function evalNabCorpus(dir: string, threshold = DECLARED_THRESHOLD, onFile?: (name: string, ms: number) => void, config?: EngineOptionsInput) {
  const t0 = performance.now();
  const windows = ZWindows.parse(JSON.parse(readFileSync(path.join(dir, "labels", "combined_windows.json"), "utf8")));
  const profiles = ZProfiles.parse(JSON.parse(readFileSync(path.join(dir, "config", "profiles.json"), "utf8")));
  const labelsFile = path.join(dir, "labels", "combined_labels.json");
  const instants = existsSync(labelsFile) ? z.record(z.string(), z.array(z.string())).parse(JSON.parse(readFileSync(labelsFile, "utf8"))) : null;
  const cms: Record<string, NabCostMatrix> = {};
  for (const [k, v] of Object.entries(profiles)) cms[k] = v.CostMatrix;
  const files: NabFile[] = [];
  // the same files with the rows the engine flags (an anomaly it opened): what the product alerts on
  const alertFiles: NabFile[] = [];
  const counts: PredictionCounts[] = [];
  let late = 0;
  let duplicate = 0;
  for (const rel of Object.keys(windows).sort()) {
    const f0 = performance.now();
    const s = scoreFile(readTable(path.join(dir, "data", rel)), false, config);
    late += s.late;
    duplicate += s.duplicate;
    const win = windows[rel]!.map(([a, b]) => [ts(a, rel), ts(b, rel)] as const);
    files.push({ name: rel, timestampsMs: s.timestampsMs, scores: s.score01, windows: win });
    alertFiles.push({ name: rel, timestampsMs: s.timestampsMs, scores: Float64Array.from(s.insights.isAnomaly), windows: win });
    // prediction onsets: the labelled anomaly instants (NAB's windows open long before them)
    const onsets = instants?.[rel]?.map((a) => ts(a, rel)) ?? win.map(([a]) => a);
    const rows = s.timestampsMs.length;
    const probation = Math.min(Math.floor(0.15 * rows), 750);
    counts.push(
      countPredictions({
        timestampsMs: s.effectiveMs,
        pAnomaly: s.insights.pAnomaly,
        windows: onsets.map((o) => {
          const w = win.find(([a, b]) => a <= o && o <= b);
          return [o, w ? w[1] : o] as const;
        }),
        evalStartMs: Number(s.timestampsMs[probation] ?? Infinity),
        streams: s.insights.streams.length,
        threshold: PREDICTION_THRESHOLD,
        bandPoints: s.insights.bandPoints,
        bandInside: s.insights.bandInside,
      }),
    );
    onFile?.(rel, performance.now() - f0);
  }
  const r = nabScore(files, cms, threshold / 100);
  const nab: Record<string, { swept: ReturnType<typeof nabAt>; fixed: ReturnType<typeof nabAt> }> = {};
  for (const [k, p] of Object.entries(r.profiles)) nab[k] = { swept: nabAt(p.swept), fixed: nabAt(p.fixed!) };
  const std = r.profiles.standard ?? Object.values(r.profiles)[0]!;
  const alerts: Record<string, { score: number; windowsDetected: number; windows: number; falseAlarmRows: number }> = {};
  for (const [k, p] of Object.entries(nabScore(alertFiles, cms, 0.5).profiles)) {
    const a = nabAt(p.fixed!);
    alerts[k] = { score: a.score, windowsDetected: a.windowsDetected, windows: a.windows, falseAlarmRows: a.falseAlarmRows };
  }
  return {
    corpus: dir,
    layout: "nab" as const,
    threshold,
    files: r.files,
    windows: r.windowsTotal,
    scorableRows: r.scorableRows,
    nab,
    alerts,
    events: { fixed: nabAt(std.fixed!), swept: nabAt(std.swept) },
    prediction: summarisePredictions(addPredictionCounts(counts), PREDICTION_THRESHOLD),
    explanation: null,
    input: { lateRows: late, duplicateRows: duplicate },
    perFile: std.fixed!.perFile.map((f, i) => ({ file: f.file, rawStandardFixed: f.raw, falseAlarmRows: f.fp, sweptRaw: std.swept.perFile[i]!.raw })),
    runtimeMs: Math.round(performance.now() - t0),
  };
}

const ZManifest = z.object({
  stepSeconds: z.number().optional(),
  files: z.array(
    z.object({
      file: z.string(),
      firstTestRow: z.number().int().nonnegative(),
      events: z.array(z.tuple([z.number().int(), z.number().int()])).optional(),
      interpretation: z.array(z.object({ rows: z.tuple([z.number().int(), z.number().int()]), streams: z.array(z.string()) })).optional(),
    }),
  ),
});

export function evalWideCorpus(dir: string, threshold = DECLARED_THRESHOLD, onFile?: (name: string, ms: number) => void, config?: EngineOptionsInput) {
  const t0 = performance.now();
  const manifest = ZManifest.parse(JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")));
  const results: (RangeFileResult & { file: string; testRows: number; testDays: number })[] = [];
  // the rows the engine flags (an anomaly it opened) instead of score ≥ threshold: what the product alerts on
  const alertResults: RangeFileResult[] = [];
  const explanations: EventExplanation[] = [];
  const counts: PredictionCounts[] = [];
  let late = 0;
  let duplicate = 0;
  for (const entry of manifest.files) {
    const f0 = performance.now();
    const file = path.join(dir, entry.file);
    const table = readTable(file);
    const labelCol = table.columns.find((c) => !c.scored);
    if (!labelCol) throw new Error(`${file}: no ground-truth column (is_anomaly)`);
    const s = scoreFile(table, true, config);
    late += s.late;
    duplicate += s.duplicate;
    const from = entry.firstTestRow;
    const label = Array.from(labelCol.values.subarray(from), (v) => (v > 0.5 ? 1 : 0));
    const score = s.score01.subarray(from);
    const eff = s.effectiveMs;
    const testDays = label.length > 1 ? (eff[eff.length - 1]! - eff[from]!) / 86_400_000 : 0;
    results.push({ file: entry.file, testRows: label.length, testDays, ...rangeScore(score, label, { threshold: threshold / 100 }) });
    alertResults.push(rangeScore(Float64Array.from(s.insights.isAnomaly.subarray(from)), label, { threshold: 0.5 }));
    const flagged = Uint8Array.from(s.score01, (v) => (v >= threshold / 100 ? 1 : 0));
    for (const ev of entry.interpretation ?? []) explanations.push(explainEvent(s.insights.streams, s.insights.evidence!, flagged, ev, eff, undefined, s.insights.values));
    const evs = entry.events ?? [];
    counts.push(
      countPredictions({
        timestampsMs: eff,
        pAnomaly: s.insights.pAnomaly,
        windows: evs.map(([a, b]) => [eff[a]!, eff[b]!] as const),
        evalStartMs: eff[from] ?? Infinity,
        streams: s.insights.streams.length,
        threshold: PREDICTION_THRESHOLD,
        bandPoints: s.insights.bandPoints,
        bandInside: s.insights.bandInside,
      }),
    );
    onFile?.(entry.file, performance.now() - f0);
  }
  const mean = meanRange(results);
  // alarm runs at the declared threshold touching no labelled row: what an on-call engineer
  // would have been paged for in vain
  const falseRunsOf = (rs: readonly RangeFileResult[]) => rs.reduce((a, r) => a + (r.fixed ? r.fixed.event.alarmRuns - r.fixed.event.alarmRunsOnEvents : 0), 0);
  const falseRuns = falseRunsOf(results);
  const machineDays = results.reduce((a, r) => a + r.testDays, 0);
  return {
    corpus: dir,
    layout: "wide" as const,
    threshold,
    files: results.length,
    mean,
    falseAlarms: { runs: falseRuns, machineDays, perMachineDay: machineDays > 0 ? falseRuns / machineDays : Number.NaN },
    alerts: { ...meanRange(alertResults).fixed!, falseAlarmRuns: falseRunsOf(alertResults) },
    explanation: summariseExplanations(explanations),
    prediction: summarisePredictions(addPredictionCounts(counts), PREDICTION_THRESHOLD),
    input: { lateRows: late, duplicateRows: duplicate },
    perFile: results.map((r) => ({
      file: r.file,
      testRows: r.testRows,
      events: r.events,
      falseAlarmRuns: r.fixed ? r.fixed.event.alarmRuns - r.fixed.event.alarmRunsOnEvents : null,
      swept: Object.fromEntries(RANGE_METRICS.map((m) => [m, { ...r.swept[m], threshold: Math.round(r.swept[m].threshold * 10_000) / 100 }])),
      fixed: r.fixed && Object.fromEntries(RANGE_METRICS.map((m) => [m, { precision: r.fixed![m].precision, recall: r.fixed![m].recall, f1: r.fixed![m].f1 }])),
    })),
    runtimeMs: Math.round(performance.now() - t0),
  };
}

export type NabCorpusReport = ReturnType<typeof evalNabCorpus>;
export type WideCorpusReport = ReturnType<typeof evalWideCorpus>;

const f3 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(3));
const f2 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(2));

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join("  ")).join("\n");
}

export function formatCorpusReport(r: NabCorpusReport | WideCorpusReport): string {
  const out: string[] = [];
  if (r.layout === "nab") {
    out.push(`NAB corpus ${r.corpus}: ${r.files} files, ${r.windows} windows, ${r.scorableRows} scored rows, ${(r.runtimeMs / 1000).toFixed(1)} s`);
    const rows = [["profile", "swept score", "at threshold", `score at ${r.threshold}`]];
    const thr = (t: number | null): string => (t === null ? "none (never alarms)" : f2(t));
    for (const [k, p] of Object.entries(r.nab)) rows.push([k, f2(p.swept.score), thr(p.swept.threshold), f2(p.fixed.score)]);
    out.push(table(rows), "");
    const ev = [["events (standard)", "threshold", "P", "R", "F1", "FA/day", "delay mean min", "delay median min", "windows"]];
    for (const [k, e] of [["declared", r.events.fixed], ["swept", r.events.swept]] as const) {
      ev.push([k, e.threshold === null ? "none" : f2(e.threshold), f3(e.precision), f3(e.recall), f3(e.f1), f2(e.falseAlarmsPerDay), f2(e.detectionDelayMinMean), f2(e.detectionDelayMinMedian), `${e.windowsDetected}/${e.windows}`]);
    }
    out.push(table(ev));
    const al = Object.entries(r.alerts).map(([k, a]) => `${k} ${f2(a.score)}`).join(", ");
    const as = r.alerts.standard;
    out.push(`alerts (rows in an anomaly the engine opened, what the product alerts on; a lone point ≥ ${r.threshold} opens one only when the next points confirm it): ${al}${as ? `; ${as.windowsDetected}/${as.windows} windows, ${as.falseAlarmRows} false-alarm rows` : ""}`);
  } else {
    out.push(`Wide corpus ${r.corpus}: ${r.files} files, ${(r.runtimeMs / 1000).toFixed(1)} s`);
    const rows = [["file", "point F1 swept", "event F1 swept", "composite F1 swept", `point F1 @${r.threshold}`, `event F1 @${r.threshold}`, `composite F1 @${r.threshold}`]];
    for (const f of r.perFile) rows.push([f.file, f3(f.swept.point!.f1), f3(f.swept.event!.f1), f3(f.swept.composite!.f1), f3(f.fixed?.point?.f1), f3(f.fixed?.event?.f1), f3(f.fixed?.composite?.f1)]);
    rows.push(["MEAN", f3(r.mean.swept.point.f1), f3(r.mean.swept.event.f1), f3(r.mean.swept.composite.f1), f3(r.mean.fixed?.point.f1), f3(r.mean.fixed?.event.f1), f3(r.mean.fixed?.composite.f1)]);
    out.push(table(rows), "");
    out.push(`false alarms @${r.threshold}: ${r.falseAlarms.runs} alarm runs on no labelled row in ${f2(r.falseAlarms.machineDays)} machine-days (${f2(r.falseAlarms.perMachineDay)} per machine per day)`);
    const a = r.alerts;
    out.push(`alerts (rows in an anomaly the engine opened, what the product alerts on): composite F1 ${f3(a.composite.f1)}, event F1 ${f3(a.event.f1)}, point F1 ${f3(a.point.f1)}, ${a.falseAlarmRuns} false-alarm runs`);
    const x = r.explanation;
    out.push(`explanation: ${x.eventsExplained}/${x.events} labelled events with an alarm; HitRate@100% ${f3(x.hitRate100)}, HitRate@150% ${f3(x.hitRate150)}, top cause labelled ${f3(x.topCauseLabelled)} (HitRate@150% over all events, misses 0: ${f3(x.hitRate150AllEvents)})`);
  }
  const p = r.prediction;
  out.push(
    `prediction (p_anomaly_30m ≥ ${p.threshold}): ${p.onsets} onsets, hit rate ${f3(p.hitRate)}, lead ${f2(p.leadTimeMinAvg)} min, ${p.predictions} predictions, ${f2(p.falsePredictionsPerDay)} false/day (${f2(p.falsePredictionsPerStreamWeek)} per stream-week), on ${(100 * (p.predictingShare ?? 0)).toFixed(1)} % of the time; 95 % interval coverage ${f3(p.intervalCoverage95)}`,
  );
  if (r.input.lateRows || r.input.duplicateRows) out.push(`input: ${r.input.lateRows} late rows, ${r.input.duplicateRows} duplicate timestamps (scored at the newest time)`);
  return out.join("\n");
}
