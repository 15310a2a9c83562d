/** Labelled synthetic telemetry: the shapes shared by the generator, the CSV writer and eval. */

/** How a stream's values behave, as an SRE would name the metric type. */
export type StreamKind =
  /** A point-in-time level (CPU %, latency, memory, queue depth). */
  | "gauge"
  /** A cumulative, monotonically increasing count that resets to ~0 on process restart. */
  | "counter"
  /** Number of events in each step (non-negative integers, often small / zero). */
  | "count";

export interface ScenarioStream {
  /** Column name, Prometheus-style (e.g. `http_requests_total`, `cpu_percent`). */
  name: string;
  unit: string;
  kind: StreamKind;
  /** One value per row; NaN = missing (scrape gap, outage). */
  values: Float64Array;
}

export type AnomalyKind =
  | "spike"
  | "level-shift"
  | "leak"
  | "outage"
  | "cascade"
  | "burst"
  | "drop"
  | "contextual"
  | "variance"
  | "stall"
  | "flatline"
  /** Slowly developing: a disk filling, a backlog growing, latency creeping towards its SLO. */
  | "fill"
  | "backlog"
  | "creep"
  | "regime-change";

/**
 * One ground-truth anomaly: rows with `startMs <= t <= endMs` are anomalous (both ends inclusive,
 * both are row timestamps).
 */
export interface TruthWindow {
  startMs: number;
  endMs: number;
  kind: AnomalyKind;
  /** Streams that visibly move (the first one moves first in a cascade). */
  streams: string[];
  description: string;
  /**
   * Slowly developing incidents: when the drift does harm (OOM kill, disk full, queue full, SLO
   * breached). A prediction is useful when it comes well before this, not before `startMs`.
   */
  impactMs?: number;
}

/**
 * A persistent level change: the anomaly window labels only the first part; from
 * `windowEndMs` on, the new level is normal. Eval measures how long a detector keeps flagging.
 */
export interface RegimeChange {
  atMs: number;
  windowEndMs: number;
  streams: string[];
}

export interface Scenario {
  name: string;
  description: string;
  /** Sampling step in ms (rows are evenly spaced). */
  stepMs: number;
  timestampsMs: Float64Array;
  columns: ScenarioStream[];
  /** Sorted by start, non-overlapping. */
  anomalies: TruthWindow[];
  /**
   * End of the training-only lead-in (exclusive). Rows before it are warm-up: no anomaly is
   * injected there and eval does not count them.
   */
  evalStartMs: number;
  regimeChange?: RegimeChange;
}

/** The table shape detectors consume (a Scenario is assignable to it). */
export interface TelemetryTable {
  timestampsMs: Float64Array | number[];
  columns: { name: string; values: Float64Array }[];
}
