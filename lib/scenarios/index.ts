/**
 * Labelled synthetic telemetry for evaluation, tests and demos. Pure and deterministic:
 * `generateScenarios({ seed })` returns the same data for the same seed, on any machine.
 *
 * @example
 *   const [s] = generateScenarios({ seed: 1, names: ["web-cpu-spikes"] });
 *   s.timestampsMs.length; // 10080 rows (7 days at 1 min)
 *   s.anomalies.length;    // 3 truth windows
 */
import type { BuildOptions } from "./builder";
import { apiLatencyLevelShift, jvmMemoryLeak, queueConsumerStall, webCpuSpikes } from "./catalog-a";
import {
  authFailureBursts,
  checkoutCascade,
  deployRegimeChange,
  hostOutage,
  httpCounters,
  networkJitter,
  quietWeekHeavyTails,
  weeklySeasonalTraffic,
} from "./catalog-b";
import { singlePointOutliers } from "./catalog-c";
import type { Scenario } from "./types";

export type { AnomalyKind, RegimeChange, Scenario, ScenarioStream, StreamKind, TelemetryTable, TruthWindow } from "./types";
export { SCENARIO_EPOCH_MS } from "./builder";
export { scenarioToCsv, labelsToCsv, type CsvTimeFormat } from "./csv";
export { generateSlowIncidents, slowIncidentScenario, SLOW_INCIDENT_KINDS, type SlowIncidentKind } from "./slow-incidents";

type Generator = (opts: BuildOptions) => Scenario;

const GENERATORS: Record<string, Generator> = {
  "web-cpu-spikes": webCpuSpikes,
  "api-latency-level-shift": apiLatencyLevelShift,
  "jvm-memory-leak": jvmMemoryLeak,
  "queue-consumer-stall": queueConsumerStall,
  "checkout-cascade": checkoutCascade,
  "http-counters": httpCounters,
  "auth-failure-bursts": authFailureBursts,
  "deploy-regime-change": deployRegimeChange,
  "host-outage": hostOutage,
  "weekly-seasonal-traffic": weeklySeasonalTraffic,
  "quiet-week-heavy-tails": quietWeekHeavyTails,
  "network-jitter": networkJitter,
  "single-point-outliers": singlePointOutliers,
};

export const SCENARIO_NAMES: readonly string[] = Object.keys(GENERATORS);

export const DEFAULT_SEED = 20250303;

export interface GenerateOptions {
  seed?: number;
  /** Subset by name (default: all, in catalogue order). Unknown names throw. */
  names?: readonly string[];
  /** false = the same series without the anomalies (tests use it). Default true. */
  inject?: boolean;
}

export function generateScenario(name: string, opts: Omit<GenerateOptions, "names"> = {}): Scenario {
  const gen = GENERATORS[name];
  if (!gen) throw new Error(`unknown scenario "${name}" (known: ${SCENARIO_NAMES.join(", ")})`);
  return gen({ seed: opts.seed ?? DEFAULT_SEED, inject: opts.inject ?? true });
}

export function generateScenarios(opts: GenerateOptions = {}): Scenario[] {
  return (opts.names ?? SCENARIO_NAMES).map((n) => generateScenario(n, opts));
}
