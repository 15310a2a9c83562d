import type { TAnomalyType, TSeverity, TStreamKind } from "@/lib/schemas/stream";

/**
 * One step's scores, column-wise: row j scores input position `at[j]` of the step (streams the
 * engine does not know are left out). Bands are NaN where the model is not trusted yet. The
 * arrays are the engine's scratch space: valid until its next `step`.
 */
export interface StepScores {
  n: number;
  at: Int32Array;
  streamIds: Int32Array;
  tsMs: Float64Array;
  score: Float64Array;
  confidence: Float64Array;
  expected: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
}

export interface EngineEvent {
  kind: "opened" | "updated" | "closed";
  engineId: string;
  streamIds: number[];
  startMs: number;
  endMs: number | null;
  peakScore: number;
  severity: TSeverity;
  type: TAnomalyType;
  explanation: Record<string, unknown>;
}

export interface StreamHealthOut {
  streamId: number;
  health: number;
  availability: number;
  gapClass: string | null;
}

/** Live-tunable engine settings (from saved detector configuration; see server/services/config). */
export interface EngineTuning {
  /** Per-stream score multipliers (absent = 1). */
  sensitivity: Map<number, number>;
  /** Engine-wide severity cut-offs (the lowest configured; per-stream grading is done by the gate). */
  severity: { low: number; medium: number; high: number };
  warmupSteps: number;
  /** Weight of the multivariate (Tier 2) score; 0 turns it off. */
  multivariateWeight: number;
  /** Band half-width in forecast sigmas (lower/upper = expected ∓ bandZ·σ); scores do not depend on it. */
  bandZ: number;
}

/** Forecast path for the next steps: expected level and its 1-σ uncertainty per step (epoch ms). */
export interface StreamForecast {
  tsMs: Float64Array;
  expected: Float64Array;
  sigma: Float64Array;
  /** The model's full prediction band for a single observation (for charts). */
  lower: Float64Array;
  upper: Float64Array;
}

/** A side-effect-free score of one stream's current value (see `EnginePort.probe`). */
export interface ProbeResult {
  streamId: number;
  /** The time it was scored at (the request's, or the model's clock when that is later). */
  tsMs: number;
  score: number;
  confidence: number;
  isAnomaly: boolean;
  severity: TSeverity | null;
  /** The stream's open anomaly type, "point" for an anomalous value outside one; null when normal. */
  type: TAnomalyType | null;
  expected: number | null;
  lower: number | null;
  upper: number | null;
  /** The forecast's sigma: (upper − expected) / the engine's band width (null when not trusted). */
  sigma: number | null;
  /** A counter's rate at this value, as its model scored it (`counterRate`; null for other kinds, the first reading and across a reset). */
  rate: number | null;
}

export interface EnginePort {
  /** Applies saved configuration to the running engine (optional: test doubles may omit it). */
  configure?(t: EngineTuning): void;
  hasStream(id: number): boolean;
  /**
   * Clock domains: each stream belongs to one engine clock. Domain 0 follows live data; history
   * that arrives after domain 0 has passed it goes to a history domain (see `historyDomain`),
   * which steps through it in time order and then follows live data on its own clock.
   */
  domainOf(id: number): number;
  /** A history domain whose clock is before `beforeMs` (an existing one, else a new one; at the cap, the one with the oldest clock). */
  historyDomain(beforeMs: number): number;
  addStream(id: number, kind: TStreamKind, domain?: number): void;
  /**
   * Moves the streams of history domains that have caught up with the live clock (at
   * `liveFromMs` or later) into domain 0, with what they learnt; the ids moved and the domains
   * they left (optional: test doubles may omit it).
   */
  mergeCaughtUp?(liveFromMs: number): { ids: number[]; domains: number[] };
  /**
   * Makes room for `count` more streams in one clock domain before they are added one by one
   * (all per-stream state grows once; optional: test doubles may omit it).
   */
  reserveStreams?(count: number, domain?: number): void;
  /** Scores one aligned timestamp of one domain; `sampleTs` are the samples' own times (for score rows). */
  step(tsMs: number, ids: ArrayLike<number>, values: Float64Array, sampleTs: Float64Array, domain?: number): { scores: StepScores; events: EngineEvent[] };
  health(): StreamHealthOut[];
  /** Drops deleted streams' state (their ids are not scored again unless they come back). */
  forgetStreams?(ids: readonly number[]): void;
  applyFeedback(streamId: number, label: "true_anomaly" | "false_positive" | "expected", startMs: number, endMs: number): void;
  /** Forecast of one stream over the next `horizonMs`; null when the stream is unknown or not warmed up. */
  forecast(streamId: number, horizonMs: number): StreamForecast | null;
  streamIds(): number[];
  /**
   * Scores `values[k]` of stream `ids[k]` at `tsMs` (NaN = missing) on copies of their models:
   * the live state is not changed. Unknown streams are left out (optional: test doubles may omit it).
   */
  probe?(tsMs: number, ids: readonly number[], values: Float64Array): ProbeResult[];
  /** The whole detector state, for a snapshot (`restoreEngine` reads it back). */
  serialize(): Uint8Array;
  /**
   * `serialize()` without holding the event loop for the whole copy (optional: test doubles may
   * omit it). The engine must not change until it resolves.
   */
  serializeSliced?(): Promise<Uint8Array>;
  lastStepMs(domain?: number): number;
}
