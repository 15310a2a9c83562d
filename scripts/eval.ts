/**
 * Benchmark: every synthetic scenario through Omen's scorer (lib/detectors/score-table.ts) and
 * a plain rolling z-score baseline, with event-level metrics.
 *
 *   npm run -s eval                      # tables
 *   npm run -s eval -- --json            # one JSON object on stdout
 *   npm run -s eval -- --quick           # 3 scenarios (fast; used by tests)
 *   options: --seed N  --scenario a,b  --tolerance-min M  --horizon-h H  --baseline-only
 *   npm run -s eval -- --corpus DIR [--json] [--threshold 60]
 *   --config C.json                      # engine options (as `npm run detect -- --config`) for either mode
 *                                        # a labelled corpus (NAB or wide layout, docs/eval.md)
 *
 * Exit code 1 when the scorer module exists but fails to load or throws on a scenario.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { rollingZScore } from "../lib/eval/baseline";
import { lowerBound } from "../lib/eval/events";
import {
  addPredictionCounts,
  countPredictions,
  countSlowIncidents,
  explainEvent,
  rankingAtOnset,
  summariseExplanations,
  summarisePredictions,
  type EventExplanation,
  type PredictionCounts,
  type SlowCounts,
} from "../lib/eval/insight-metrics";
import type { TableInsights } from "../lib/insights/table-insights";
import { corpusLayout, DECLARED_THRESHOLD, evalNabCorpus, evalWideCorpus, formatCorpusReport, PREDICTION_THRESHOLD } from "./eval-corpus";
import { ZEngineOptions, type EngineOptionsInput } from "../lib/detectors/options";
import { formatDetectorTable, formatDuration } from "../lib/eval/format";
import type { DetectionMetrics } from "../lib/eval/metrics";
import { runEval, type DetectorOverall, type DetectorSpec, type EvalReport } from "../lib/eval/run";
import { DEFAULT_SEED, generateScenarios, generateSlowIncidents, SCENARIO_NAMES, type Scenario, type TelemetryTable } from "../lib/scenarios";

export const QUICK_SCENARIOS = ["web-cpu-spikes", "auth-failure-bursts", "deploy-regime-change"] as const;
const SCORER_PATH = "lib/insights/table-insights.ts";
const BASELINE = { window: 60, threshold: 3 };
/** Seeds of the slowly developing incidents (5 kinds each; seed + 1 …): not the seeds the predictor was tried on. */
const SLOW_SEEDS = 4;

interface Args {
  json: boolean;
  quick: boolean;
  seed: number;
  names: string[] | undefined;
  toleranceMin: number;
  horizonH: number;
  baselineOnly: boolean;
  corpus: string | undefined;
  threshold: number;
  config: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, quick: false, seed: DEFAULT_SEED, names: undefined, toleranceMin: 5, horizonH: 24, baselineOnly: false, corpus: undefined, threshold: DECLARED_THRESHOLD, config: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const positive = (v: string): number => {
      const x = Number(v);
      if (!Number.isFinite(x) || x < 0) throw new Error(`${a}: not a non-negative number: ${v}`);
      return x;
    };
    if (a === "--json") args.json = true;
    else if (a === "--quick") args.quick = true;
    else if (a === "--baseline-only") args.baselineOnly = true;
    else if (a === "--seed") args.seed = Math.trunc(positive(value()));
    else if (a === "--scenario") args.names = value().split(",").filter(Boolean);
    else if (a === "--tolerance-min") args.toleranceMin = positive(value());
    else if (a === "--horizon-h") args.horizonH = positive(value());
    else if (a === "--corpus") args.corpus = value();
    else if (a === "--config") args.config = value();
    else if (a === "--threshold") {
      args.threshold = positive(value());
      if (args.threshold > 100) throw new Error(`--threshold is on Omen's 0–100 score scale (got ${args.threshold})`);
    }
    else if (a === "--help" || a === "-h") {
      process.stdout.write(`usage: npm run -s eval -- [--json] [--quick] [--seed N] [--scenario ${SCENARIO_NAMES.join(",")}] [--tolerance-min 5] [--horizon-h 24] [--baseline-only] [--config C.json]\n       npm run -s eval -- --corpus DIR [--json] [--threshold ${DECLARED_THRESHOLD}] [--config C.json]\n`);
      process.exit(0);
    } else throw new Error(`unknown argument: ${a}`);
  }
  return args;
}

/** Typed against the real module; loaded at run time so a missing/broken scorer still leaves the baseline. */
type ScoreTableModule = typeof import("../lib/insights/table-insights");

/** Engine options from a JSON file, validated like `npm run detect -- --config`. */
function readConfig(file: string | undefined): EngineOptionsInput | undefined {
  if (file === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`cannot read config ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = ZEngineOptions.safeParse(raw);
  if (!r.success) throw new Error(`invalid config ${file}: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  return raw as EngineOptionsInput;
}

async function loadScorer(root: string, insights: Map<string, TableInsights>, config: EngineOptionsInput | undefined): Promise<{ spec?: DetectorSpec; status: { available: boolean; module: string; error?: string } }> {
  const file = path.join(root, SCORER_PATH);
  if (!existsSync(file)) return { status: { available: false, module: SCORER_PATH, error: "module not found" } };
  try {
    const mod = (await import(pathToFileURL(file).href)) as ScoreTableModule;
    if (typeof mod.scoreTableWithInsights !== "function") throw new Error("scoreTableWithInsights is not exported");
    let n = 0;
    return {
      // Only names and values are passed (no stream kinds), exactly what a CSV gives the CLI.
      spec: {
        id: "omen",
        label: "Omen scoreTable",
        run: (t: TelemetryTable) => {
          const r = mod.scoreTableWithInsights({ timestampsMs: t.timestampsMs, columns: t.columns.map((c) => ({ name: c.name, values: c.values })) }, config, { keepContributions: true });
          insights.set(String(n++), r);
          return r;
        },
      },
      status: { available: true, module: SCORER_PATH },
    };
  } catch (e) {
    return { status: { available: false, module: SCORER_PATH, error: `failed to load: ${e instanceof Error ? e.message : String(e)}` } };
  }
}

function nullable(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function metricsJson(m: DetectionMetrics, withDelays: boolean): Record<string, unknown> {
  const { delaysSec, windowDelaysSec, ...rest } = m;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) out[k] = typeof v === "number" ? nullable(v) : v;
  if (withDelays) {
    out.delaysSec = delaysSec;
    out.windowDelaysSec = windowDelaysSec;
  }
  return out;
}

const NULL_METRICS = {
  precision: null,
  recall: null,
  f1: null,
  fpr: null,
  falseAlarmsPerDay: null,
  detectionDelaySec: null,
  detectionDelayMedianSec: null,
};

function overallJson(o: DetectorOverall | undefined): Record<string, unknown> {
  if (!o) return { ...NULL_METRICS, adaptationSec: null };
  return {
    ...metricsJson(o.metrics, false),
    adaptationSec: nullable(o.adaptationSec),
    adapted: o.adaptedAll,
    runtimeMs: Math.round(o.runtimeMs),
    errors: o.errors,
  };
}

export const DEFINITIONS = {
  evalPeriod: "rows from each scenario's evalStartMs on; the lead-in is warm-up and never scored",
  predictedEvent: "a run of consecutive rows with isAnomaly = 1",
  precision: "predicted events overlapping a truth window (extended by toleranceSec after its end) / predicted events",
  recall: "truth windows with >= 1 flagged row in the extended window / truth windows",
  f1: "2PR/(P+R)",
  fpr: "row-level: flagged rows outside every extended truth window / rows outside every extended truth window",
  falseAlarmsPerDay: "predicted events overlapping no truth window / eval-period days",
  detectionDelaySec: "mean over detected windows of (first flagged row in the extended window - window start); detectionDelayMedianSec is the median",
  overall: "micro-average: event and row counts summed over all scenarios, then the ratios; delays pooled over all detected windows",
  adaptationSec: "regime-change scenario: time from the shift until the detector stops flagging for >= 60 min in a row (adapted=false if it never does within the horizon)",
  baseline: `rolling z-score over the previous ${BASELINE.window} rows per stream, |z| > ${BASELINE.threshold} on any stream`,
  explanation: "per truth window with an alarm: streams ranked by their largest contribution over the window's flagged rows; HitRate@P% = share of the window's moving streams among the first P% × their number; originRankedFirst = cascades whose first moving stream is ranked first at the first flagged row",
  prediction: `p_anomaly_30m >= ${PREDICTION_THRESHOLD} is a prediction; hitRate = onsets with a prediction 5-60 min before; leadTimeMinAvg over hits; falsePredictionsPerDay = runs of predictions with no window under way or starting within 60 min (falsePredictionsPerStreamWeek: per stream and week); slowIncidents = the catalogue's leak and ${SLOW_SEEDS} seeds × 5 slowly developing incidents (lib/scenarios/slow-incidents.ts), predicted = a prediction from 60 min before the drift starts to 30 min before its harm (impactMs), lead = harm − first such prediction; predictingShare = share of eval rows with a prediction on; intervalCoverage95 = gauge points inside the one-step 95% forecast band`,
};

function toJson(report: EvalReport, args: Args, scorer: { available: boolean; module: string; error?: string }, hasOmen: boolean): Record<string, unknown> {
  return {
    seed: args.seed,
    quick: args.quick,
    toleranceSec: report.toleranceMs / 1000,
    adaptationHorizonSec: report.adaptationHorizonMs / 1000,
    detector: scorer,
    overall: overallJson(hasOmen ? report.overall.omen : undefined),
    adaptationSec: hasOmen ? nullable(report.overall.omen?.adaptationSec ?? Number.NaN) : null,
    baseline: { name: `rolling-z(${BASELINE.window},${BASELINE.threshold})`, ...overallJson(report.overall.baseline) },
    scenarios: report.scenarios.map((s) => {
      const one = (id: string): Record<string, unknown> | null => {
        const r = s.results[id];
        if (!r) return null;
        return {
          ...metricsJson(r.metrics, true),
          ...(r.adaptation ? { adaptationSec: r.adaptation.sec, adapted: r.adaptation.adapted } : {}),
          runtimeMs: Math.round(r.runtimeMs),
          ...(r.error ? { error: r.error } : {}),
        };
      };
      return {
        name: s.name,
        description: s.description,
        rows: s.rows,
        streams: s.streams,
        stepSec: s.stepSec,
        days: s.days,
        evalDays: s.evalDays,
        truthWindows: s.truthWindows,
        windows: s.windows,
        detector: one("omen"),
        baseline: one("baseline"),
      };
    }),
    definitions: DEFINITIONS,
  };
}

/**
 * Explanation and prediction figures of the scenarios: causes against each window's moving
 * streams (and, for cascades, its first stream), p_anomaly_30m against the window onsets.
 */

function scenarioInsights(scenarios: readonly Scenario[], insights: Map<string, TableInsights>, slowScenarios: readonly { s: Scenario; r: TableInsights }[]) {
  const explained: EventExplanation[] = [];
  let cascades = 0;
  let cascadesExplained = 0;
  let originFirst = 0;
  const counts: PredictionCounts[] = [];
  const slow: SlowCounts[] = [];
  const slowFalse: PredictionCounts[] = [];
  const predictionCounts = (s: Scenario, r: TableInsights) =>
    countPredictions({
      timestampsMs: s.timestampsMs,
      pAnomaly: r.pAnomaly,
      windows: s.anomalies.map((w) => [w.startMs, w.endMs] as const),
      evalStartMs: s.evalStartMs,
      streams: s.columns.length,
      threshold: PREDICTION_THRESHOLD,
      bandPoints: r.bandPoints,
      bandInside: r.bandInside,
    });
  const slowIncidents = (s: Scenario, r: TableInsights) =>
    countSlowIncidents(s.timestampsMs, r.pAnomaly, s.anomalies.flatMap((w) => (w.impactMs !== undefined ? [{ startMs: w.startMs, impactMs: w.impactMs }] : [])), PREDICTION_THRESHOLD);
  scenarios.forEach((s, k) => {
    const r = insights.get(String(k));
    if (!r) return;
    const ts = s.timestampsMs;
    for (const w of s.anomalies) {
      const rows = [lowerBound(ts, w.startMs), Math.min(ts.length - 1, lowerBound(ts, w.endMs + 1) - 1)] as const;
      explained.push(explainEvent(r.streams, r.evidence!, r.isAnomaly, { rows, streams: w.streams }, ts, undefined, r.values));
      if (w.kind !== "cascade") continue;
      cascades++;
      const ranked = rankingAtOnset(r.causes, r.isAnomaly, rows);
      if (!ranked) continue;
      cascadesExplained++;
      if (ranked[0] === w.streams[0]) originFirst++;
    }
    counts.push(predictionCounts(s, r));
    slow.push(slowIncidents(s, r));
  });
  for (const { s, r } of slowScenarios) {
    slow.push(slowIncidents(s, r));
    slowFalse.push(predictionCounts(s, r));
  }
  const sc = slow.reduce((a, c) => ({ incidents: a.incidents + c.incidents, predicted: a.predicted + c.predicted, leadMinSum: a.leadMinSum + c.leadMinSum }), { incidents: 0, predicted: 0, leadMinSum: 0 });
  const slowFp = summarisePredictions(addPredictionCounts(slowFalse), PREDICTION_THRESHOLD);
  return {
    explanation: { ...summariseExplanations(explained), cascades, cascadesExplained, originRankedFirst: cascadesExplained ? originFirst / cascadesExplained : null },
    prediction: {
      ...summarisePredictions(addPredictionCounts(counts), PREDICTION_THRESHOLD),
      slowIncidents: {
        incidents: sc.incidents,
        predicted: sc.predicted,
        hitRate: sc.incidents ? sc.predicted / sc.incidents : null,
        leadTimeMinAvg: sc.predicted ? sc.leadMinSum / sc.predicted : null,
        falsePredictionsPerStreamWeek: slowFp.falsePredictionsPerStreamWeek,
      },
    },
  };
}

async function runCorpus(args: Args): Promise<void> {
  const dir = path.resolve(args.corpus!);
  const layout = corpusLayout(dir);
  const config = readConfig(args.config);
  const progress = args.json ? undefined : (name: string, ms: number) => process.stderr.write(`  ${name}: ${(ms / 1000).toFixed(2)} s\n`);
  const report = layout === "nab" ? evalNabCorpus(dir, args.threshold, progress, config) : evalWideCorpus(dir, args.threshold, progress, config);
  process.stdout.write(args.json ? JSON.stringify(report) + "\n" : formatCorpusReport(report) + "\n");
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.corpus !== undefined) return runCorpus(args);
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const names = args.names ?? (args.quick ? [...QUICK_SCENARIOS] : undefined);
  const scenarios = generateScenarios({ seed: args.seed, ...(names ? { names } : {}) });

  const detectors: DetectorSpec[] = [];
  const insights = new Map<string, TableInsights>();
  let scorer: { available: boolean; module: string; error?: string } = { available: false, module: SCORER_PATH, error: "skipped (--baseline-only)" };
  if (!args.baselineOnly) {
    const loaded = await loadScorer(root, insights, readConfig(args.config));
    scorer = loaded.status;
    if (loaded.spec) detectors.push(loaded.spec);
    else process.stderr.write(`eval: Omen scorer unavailable (${SCORER_PATH}: ${loaded.status.error}); baseline only\n`);
  }
  detectors.push({ id: "baseline", label: "baseline", run: (t) => rollingZScore(t, BASELINE) });

  const report = runEval(scenarios, detectors, {
    toleranceMs: args.toleranceMin * 60_000,
    adaptationHorizonMs: args.horizonH * 3_600_000,
    ...(args.json ? {} : { onProgress: (s: string, d: string, ms: number) => process.stderr.write(`  ${s} / ${d}: ${(ms / 1000).toFixed(2)} s\n`) }),
  });
  const hasOmen = detectors.some((d) => d.id === "omen");
  const slowScenarios: { s: Scenario; r: TableInsights }[] = [];
  const omen = detectors.find((d) => d.id === "omen");
  if (omen && !args.quick) {
    for (const s of generateSlowIncidents(Array.from({ length: SLOW_SEEDS }, (_, i) => args.seed + 1 + i))) {
      omen.run(s);
      slowScenarios.push({ s, r: insights.get(String(insights.size - 1))! });
    }
  }
  const extra = hasOmen ? scenarioInsights(scenarios, insights, slowScenarios) : { explanation: null, prediction: null };

  if (args.json) {
    process.stdout.write(JSON.stringify({ ...toJson(report, args, scorer, hasOmen), ...extra }) + "\n");
  } else {
    const lines: string[] = [];
    lines.push(`Omen eval — ${scenarios.length} scenarios, seed ${args.seed}, tolerance ${args.toleranceMin} min after each window`);
    for (const s of report.scenarios) lines.push(`  ${s.name.padEnd(26)} ${String(s.rows).padStart(6)} rows × ${s.streams.length} streams, step ${s.stepSec}s, ${s.truthWindows} windows`);
    lines.push("");
    if (hasOmen) lines.push(formatDetectorTable(report, "omen", "Omen scoreTable"), "");
    else lines.push(`== Omen scoreTable: unavailable (${scorer.error}) ==`, "");
    lines.push(formatDetectorTable(report, "baseline", `Baseline: rolling z-score (window ${BASELINE.window}, |z| > ${BASELINE.threshold})`), "");
    lines.push("P/R/F1 event-level; FPR row-level on normal rows; FA/day = false-alarm events per eval day;");
    lines.push("delay = first flagged row − window start; OVERALL = micro-average over events of all scenarios.");
    const o = report.overall.omen;
    if (o) lines.push(`Omen adaptation time: ${o.adaptedAll ? formatDuration(o.adaptationSec) : "not adapted within the horizon"}`);
    if (extra.explanation && extra.prediction) {
      const x = extra.explanation;
      const p = extra.prediction;
      const f = (v: number | null, d = 3) => (v === null ? "—" : v.toFixed(d));
      lines.push(
        `Explanation: ${x.eventsExplained}/${x.events} windows with an alarm; top cause a moving stream ${f(x.topCauseLabelled)}, HitRate@150% ${f(x.hitRate150)}; cascade origin ranked first ${f(x.originRankedFirst)} (${x.cascadesExplained}/${x.cascades} cascades with an alarm)`,
        `Prediction (p_anomaly_30m ≥ ${p.threshold}): ${p.onsets} onsets, hit rate ${f(p.hitRate)}, lead ${f(p.leadTimeMinAvg, 1)} min, ${p.predictions} predictions, ${f(p.falsePredictionsPerDay, 2)} false/day, on ${(100 * (p.predictingShare ?? 0)).toFixed(1)} % of the time; 95 % interval coverage ${f(p.intervalCoverage95)}`,
        `  slowly developing incidents: ${p.slowIncidents.predicted}/${p.slowIncidents.incidents} predicted ≥ 30 min before the harm, lead ${f(p.slowIncidents.leadTimeMinAvg, 1)} min; ${f(p.falsePredictionsPerStreamWeek, 2)} false predictions per stream-week (scenarios), ${f(p.slowIncidents.falsePredictionsPerStreamWeek, 2)} (slow-incident tables)`,
      );
    }
    process.stdout.write(lines.join("\n") + "\n");
  }
  const failed = Object.values(report.overall).some((o) => o.errors.length > 0) || (scorer.error?.startsWith("failed") ?? false);
  if (failed) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`eval: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
