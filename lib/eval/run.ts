/**
 * Runs detectors over scenarios and collects per-scenario and micro-averaged metrics.
 * Pure apart from timing (performance.now) — no I/O; the CLI lives in scripts/eval.ts.
 */
import type { Scenario, TelemetryTable } from "../scenarios/types";
import { adaptationTime, DEFAULT_ADAPTATION_HORIZON_MS, type Adaptation } from "./adaptation";
import { countDetections, DEFAULT_TOLERANCE_MS, metricsFromCounts, microAverage, type DetectionMetrics } from "./metrics";

export interface DetectorRun {
  score: ArrayLike<number>;
  isAnomaly: ArrayLike<number>;
}

export interface DetectorSpec {
  id: string;
  label: string;
  run: (table: TelemetryTable) => DetectorRun;
}

export interface DetectorScenarioResult {
  metrics: DetectionMetrics;
  adaptation?: Adaptation;
  runtimeMs: number;
  error?: string;
}

export interface ScenarioReport {
  name: string;
  description: string;
  rows: number;
  streams: string[];
  stepSec: number;
  days: number;
  evalDays: number;
  truthWindows: number;
  /** The truth windows (kind, ISO start, minutes) — detectors' `windowDelaysSec` align with them. */
  windows: { kind: string; start: string; minutes: number; description: string }[];
  hasRegimeChange: boolean;
  results: Record<string, DetectorScenarioResult>;
}

export interface DetectorOverall {
  metrics: DetectionMetrics;
  /** Mean adaptation time over regime-change scenarios (s); NaN if none. */
  adaptationSec: number;
  adaptedAll: boolean;
  runtimeMs: number;
  errors: string[];
}

export interface EvalReport {
  toleranceMs: number;
  adaptationHorizonMs: number;
  scenarios: ScenarioReport[];
  overall: Record<string, DetectorOverall>;
}

export interface RunEvalOptions {
  toleranceMs?: number;
  adaptationHorizonMs?: number;
  /** Called after each (scenario, detector) pair, e.g. for progress on stderr. */
  onProgress?: (scenario: string, detector: string, runtimeMs: number) => void;
  /** Injectable clock (defaults to performance.now). */
  now?: () => number;
}

export function runEval(scenarios: readonly Scenario[], detectors: readonly DetectorSpec[], opts: RunEvalOptions = {}): EvalReport {
  const toleranceMs = opts.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  const horizonMs = opts.adaptationHorizonMs ?? DEFAULT_ADAPTATION_HORIZON_MS;
  const now = opts.now ?? (() => performance.now());
  const reports: ScenarioReport[] = [];

  for (const s of scenarios) {
    const n = s.timestampsMs.length;
    const results: Record<string, DetectorScenarioResult> = {};
    for (const d of detectors) {
      const t0 = now();
      let out: DetectorRun;
      let error: string | undefined;
      try {
        // Hand each detector fresh copies: a detector that mutates its input cannot affect the next.
        out = d.run({ timestampsMs: Float64Array.from(s.timestampsMs), columns: s.columns.map((c) => ({ name: c.name, values: Float64Array.from(c.values) })) });
        if (out.isAnomaly.length !== n) throw new Error(`isAnomaly has ${out.isAnomaly.length} rows, expected ${n}`);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
        out = { score: new Float64Array(n), isAnomaly: new Uint8Array(n) };
      }
      const runtimeMs = now() - t0;
      const metrics = metricsFromCounts(
        countDetections({ timestampsMs: s.timestampsMs, isAnomaly: out.isAnomaly, truth: s.anomalies, evalStartMs: s.evalStartMs, toleranceMs }),
      );
      const result: DetectorScenarioResult = { metrics, runtimeMs };
      if (s.regimeChange) {
        result.adaptation = adaptationTime({ timestampsMs: s.timestampsMs, flags: out.isAnomaly, atMs: s.regimeChange.atMs, horizonMs });
      }
      if (error !== undefined) result.error = error;
      results[d.id] = result;
      opts.onProgress?.(s.name, d.id, runtimeMs);
    }
    const first = s.timestampsMs[0] ?? 0;
    reports.push({
      name: s.name,
      description: s.description,
      rows: n,
      streams: s.columns.map((c) => c.name),
      stepSec: s.stepMs / 1000,
      days: (n * s.stepMs) / 86_400_000,
      evalDays: ((first + n * s.stepMs - s.evalStartMs) / 86_400_000),
      truthWindows: s.anomalies.length,
      windows: s.anomalies.map((w) => ({
        kind: w.kind,
        start: new Date(w.startMs).toISOString(),
        minutes: (w.endMs - w.startMs + s.stepMs) / 60_000,
        description: w.description,
      })),
      hasRegimeChange: s.regimeChange !== undefined,
      results,
    });
  }

  const overall: Record<string, DetectorOverall> = {};
  for (const d of detectors) {
    const ok = reports.filter((r) => r.results[d.id] && r.results[d.id]?.error === undefined);
    const adaptations = ok.map((r) => r.results[d.id]?.adaptation).filter((a): a is Adaptation => a !== undefined);
    overall[d.id] = {
      metrics: microAverage(ok.map((r) => (r.results[d.id] as DetectorScenarioResult).metrics)),
      adaptationSec: adaptations.length ? adaptations.reduce((a, b) => a + b.sec, 0) / adaptations.length : Number.NaN,
      adaptedAll: adaptations.every((a) => a.adapted),
      runtimeMs: reports.reduce((a, r) => a + (r.results[d.id]?.runtimeMs ?? 0), 0),
      errors: reports.filter((r) => r.results[d.id]?.error !== undefined).map((r) => `${r.name}: ${r.results[d.id]?.error}`),
    };
  }
  return { toleranceMs, adaptationHorizonMs: horizonMs, scenarios: reports, overall };
}
