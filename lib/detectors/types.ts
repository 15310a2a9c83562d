/**
 * The detector contract (after River): learn one point, score one point, high score = anomalous.
 * Thresholds, calibration and ensembles are wrappers around this contract, never baked in.
 *
 * Two shapes share it:
 * - `UnivariateDetector`: one stream, `x` is a number (NaN = missing) observed at `tMs`.
 * - `MultivariateDetector`: one feature vector per timestamp (Float64Array of fixed length).
 * Every detector serialises to a JSON-safe `{kind, version, ...}` and has a static `restore`
 * that validates kind/version; a restored detector scores the next point identically.
 *
 * Tier-1 detectors are implemented as *banks* (`StreamBank`): N streams held in struct-of-arrays
 * typed storage, which is what the engine drives; the univariate classes are 1-stream views of a
 * bank (see `bank-detector.ts`), so there is a single implementation of each algorithm.
 */
import type { StateEnvelope } from "./codec";

export interface UnivariateDetector {
  readonly kind: string;
  /** Updates the model with x observed at tMs (NaN = missing: time still advances). */
  learn(x: number, tMs: number): void;
  /** Raw anomaly score of x at tMs without changing state (>= 0, higher = more anomalous). */
  score(x: number, tMs: number): number;
  serialize(): StateEnvelope;
}

export interface MultivariateDetector {
  readonly kind: string;
  readonly dims: number;
  learn(x: Float64Array): void;
  score(x: Float64Array): number;
  serialize(): StateEnvelope;
}

/** N independent streams of one algorithm in struct-of-arrays storage. */
export interface StreamBank {
  readonly kind: string;
  /** Number of streams. */
  readonly size: number;
  /** Adds a stream; returns its slot index (= previous size). */
  add(): number;
  /** Makes room for `n` streams at once, so that adding up to that many does not reallocate. */
  reserve(n: number): void;
  /** Removes slot i by moving the last stream into it (the caller mirrors the move). */
  remove(i: number): void;
  /** Resets slot i to a fresh stream state. */
  reset(i: number): void;
  /** Raw score of x for stream i at tMs, state untouched. NaN x gives 0. */
  score(i: number, x: number, tMs: number): number;
  /** Scores then learns (the fused hot-path call); returns the same value `score` would. */
  update(i: number, x: number, tMs: number): number;
  serialize(): StateEnvelope;
}

/** Bank that also predicts: expected value and a symmetric-ish band at the next point. */
export interface ForecastingBank extends StreamBank {
  /** Expected value for stream i at tMs (before seeing x). */
  expected(i: number, tMs: number): number;
  /** Robust residual scale (≈ 1 sigma) for stream i. */
  scale(i: number): number;
}

export type StreamKind = "gauge" | "counter" | "event";

export const SEVERITIES = ["low", "medium", "high"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ANOMALY_TYPES = ["point", "contextual", "collective", "trend", "seasonal", "gap"] as const;
export type AnomalyType = (typeof ANOMALY_TYPES)[number];

export type GapClass = "none" | "point" | "short" | "medium" | "long" | "permanent";

export interface AnomalyEvent {
  id: string;
  streamIds: string[];
  startMs: number;
  endMs: number;
  peakScore: number;
  severity: Severity;
  type: AnomalyType;
  /** Short human text: which detectors fired, expected vs actual. */
  explanation: string;
}

export interface EventChange {
  kind: "opened" | "updated" | "closed";
  event: AnomalyEvent;
}
