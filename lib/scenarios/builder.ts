/**
 * ScenarioBuilder: timestamps, row/time conversion, forked RNGs, labelled injections.
 *
 * Determinism contract: everything random is drawn from RNGs forked by label from
 * `(seed, scenario name)`. Injections run only when `inject` is true but their parameters are
 * drawn either way, so the `inject: false` twin has identical noise, gaps and placement — tests
 * compare the two to prove the labels sit exactly where the series were modified.
 */
import { createRng, hashSeed, type Rng } from "./rng";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "./signals";
import type { AnomalyKind, RegimeChange, Scenario, ScenarioStream, StreamKind, TruthWindow } from "./types";

/** Monday 2025-03-03T00:00:00Z: every scenario starts on a Monday at midnight UTC. */
export const SCENARIO_EPOCH_MS = Date.UTC(2025, 2, 3);

export interface BuildOptions {
  seed: number;
  /** false = same scenario without the anomalies (for tests). Default true. */
  inject: boolean;
}

export interface ScenarioSpec {
  name: string;
  description: string;
  stepMs: number;
  days: number;
  /** Length of the training-only lead-in in days. */
  leadInDays: number;
}

/** Rows a non-labelled consequence of an injection touches (e.g. the new normal after a restart). */
export interface Aftermath {
  startMs: number;
  endMs: number;
  reason: string;
}

export class ScenarioBuilder {
  readonly spec: ScenarioSpec;
  readonly n: number;
  readonly stepMs: number;
  readonly timestampsMs: Float64Array;
  readonly inject: boolean;
  /** Placement RNG: draw positions and magnitudes here, independent of `inject`. */
  readonly rng: Rng;
  readonly evalStartIndex: number;
  private readonly seed: number;
  private readonly streams: ScenarioStream[] = [];
  private readonly windows: TruthWindow[] = [];
  readonly aftermath: Aftermath[] = [];
  private regime: RegimeChange | undefined;

  constructor(spec: ScenarioSpec, opts: BuildOptions) {
    this.spec = spec;
    this.stepMs = spec.stepMs;
    this.n = Math.round((spec.days * DAY_MS) / spec.stepMs);
    this.timestampsMs = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) this.timestampsMs[i] = SCENARIO_EPOCH_MS + i * spec.stepMs;
    this.inject = opts.inject;
    this.seed = opts.seed;
    this.rng = this.fork("placement");
    this.evalStartIndex = this.index(spec.leadInDays, 0);
  }

  /** An independent RNG for one purpose (one stream's noise, one injection's shape...). */
  fork(label: string): Rng {
    return createRng(hashSeed(this.seed, `${this.spec.name}/${label}`));
  }

  /** Row index of day `day` (0-based) at `hour` (fractional hours allowed), clamped. */
  index(day: number, hour: number): number {
    const i = Math.round((day * DAY_MS + hour * HOUR_MS) / this.stepMs);
    return Math.min(this.n - 1, Math.max(0, i));
  }

  /** Row count covering `minutes`. */
  rows(minutes: number): number {
    return Math.max(1, Math.round((minutes * MINUTE_MS) / this.stepMs));
  }

  /** Random row in day `day` between hours [h0, h1). */
  randomIndex(day: number, h0: number, h1: number): number {
    return this.index(day, this.rng.uniform(h0, h1));
  }

  t(i: number): number {
    return this.timestampsMs[Math.min(this.n - 1, Math.max(0, i))] ?? 0;
  }

  /** Run `fn` only when injecting (the anomaly's random draws must happen before). */
  apply(fn: () => void): void {
    if (this.inject) fn();
  }

  addStream(name: string, unit: string, kind: StreamKind, values: Float64Array): void {
    if (values.length !== this.n) throw new Error(`${this.spec.name}/${name}: ${values.length} rows, expected ${this.n}`);
    this.streams.push({ name, unit, kind, values });
  }

  /** Label rows [i0, i1] (inclusive) as one anomaly. */
  label(i0: number, i1: number, kind: AnomalyKind, streams: string[], description: string, impactMs?: number): void {
    if (i0 < this.evalStartIndex) throw new Error(`${this.spec.name}: anomaly at row ${i0} is inside the lead-in`);
    if (i1 < i0 || i1 >= this.n) throw new Error(`${this.spec.name}: bad window [${i0}, ${i1}]`);
    this.windows.push({ startMs: this.t(i0), endMs: this.t(i1), kind, streams, description, ...(impactMs !== undefined ? { impactMs } : {}) });
  }

  /** Mark rows [i0, i1] as changed by an injection but normal (not labelled). */
  markAftermath(i0: number, i1: number, reason: string): void {
    this.aftermath.push({ startMs: this.t(i0), endMs: this.t(Math.min(i1, this.n - 1)), reason });
  }

  regimeChange(atIndex: number, windowEndIndex: number, streams: string[]): void {
    this.regime = { atMs: this.t(atIndex), windowEndMs: this.t(windowEndIndex), streams };
  }

  build(): Scenario {
    const anomalies = [...this.windows].sort((a, b) => a.startMs - b.startMs);
    for (let k = 1; k < anomalies.length; k++) {
      const prev = anomalies[k - 1];
      const cur = anomalies[k];
      if (prev && cur && cur.startMs <= prev.endMs) throw new Error(`${this.spec.name}: overlapping anomaly windows`);
    }
    return {
      name: this.spec.name,
      description: this.spec.description,
      stepMs: this.stepMs,
      timestampsMs: this.timestampsMs,
      columns: this.streams,
      anomalies,
      evalStartMs: this.t(this.evalStartIndex),
      ...(this.regime ? { regimeChange: this.regime } : {}),
    };
  }
}
