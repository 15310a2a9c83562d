/**
 * Gap tracking and stream health. Learns each stream's reporting interval (EWMA of the time
 * between observations, outliers capped at 3×) and, at every engine step, classifies how long the
 * stream has been silent relative to it:
 *   none (on time) · point (one report missed) · short (≤ shortMax missed) · medium (≤ mediumMs)
 *   · long (≤ longMs) · permanent (beyond; the stream is treated as gone).
 * Health ∈ [0,1] is an EWMA of "expected report arrived" (1) vs "expected report missed" (0),
 * counted once per expected interval, so a stream that usually reports has health ≈ 1 and its
 * silence is meaningful, while a flaky stream's silence is not.
 * Cost O(1) per stream per step; 6 doubles per stream.
 */
import { BaseBank } from "./bank";
import type { GapClass } from "./types";

export interface GapParams {
  healthAlpha: number;
  shortMax: number;
  mediumMs: number;
  longMs: number;
}

export const DEFAULT_GAPS: GapParams = {
  healthAlpha: 0.05,
  shortMax: 5,
  mediumMs: 3_600_000,
  longMs: 86_400_000,
};

export const GAP_CLASSES: readonly GapClass[] = ["none", "point", "short", "medium", "long", "permanent"];

type Cols = "last" | "dt" | "health" | "h0" | "n" | "missed" | "cls";

export class GapTracker extends BaseBank<Cols, GapParams> {
  static readonly KIND = "gap-tracker";
  static readonly VERSION = 1;
  readonly kind = GapTracker.KIND;

  constructor(params: Partial<GapParams> = {}, cap = 4) {
    super({ ...DEFAULT_GAPS, ...params }, { last: 1, dt: 1, health: 1, h0: 1, n: 1, missed: 1, cls: 1 }, cap);
  }

  protected init(i: number): void {
    this.soa.cols.health[i] = 1;
    this.soa.cols.h0[i] = 1;
  }

  score(_i: number, _x: number, _t: number): number {
    return 0;
  }

  update(i: number, x: number, tMs: number): number {
    this.observe(i, x === x, tMs);
    return this.soa.cols.cls[i]!;
  }

  /**
   * Records presence/absence of stream i at tMs; returns the gap class index (GAP_CLASSES).
   */
  observe(i: number, present: boolean, tMs: number): number {
    const c = this.soa.cols;
    const p = this.params;
    const n = c.n[i]!;
    if (present) {
      if (n > 0) {
        const d = tMs - c.last[i]!;
        if (d > 0) {
          const dt = c.dt[i]!;
          c.dt[i] = dt === 0 ? d : dt + 0.1 * (Math.min(d, 3 * dt) - dt);
        }
      }
      c.last[i] = tMs;
      c.n[i] = n + 1;
      c.health[i] = c.health[i]! + p.healthAlpha * (1 - c.health[i]!);
      c.h0[i] = c.health[i]!;
      c.missed[i] = 0;
      c.cls[i] = 0;
      return 0;
    }
    return this.missing(i, tMs);
  }

  /**
   * `observe` for a stream absent at tMs. Apart from it so that the per-point code (present)
   * stays small enough for the optimiser to inline into the engine's loop.
   */
  private missing(i: number, tMs: number): number {
    const c = this.soa.cols;
    const p = this.params;
    const n = c.n[i]!;
    const dt = c.dt[i]!;
    if (n < 3 || dt <= 0) return (c.cls[i] = 0);
    const silent = tMs - c.last[i]!;
    const missed = Math.floor(silent / dt + 0.25);
    // one health decrement per newly missed interval
    const prev = c.missed[i]!;
    if (missed > prev) {
      const k = Math.min(missed - prev, 50);
      c.health[i] = c.health[i]! * Math.pow(1 - p.healthAlpha, k);
      c.missed[i] = missed;
    }
    let cls = 0;
    if (missed >= 1) cls = 1;
    if (missed >= 2) cls = 2;
    if (missed > p.shortMax) cls = 3;
    if (silent > p.mediumMs && missed > p.shortMax) cls = 4;
    if (silent > p.longMs && missed > p.shortMax) cls = 5;
    c.cls[i] = cls;
    return cls;
  }

  /** Health as of the last observation (before the current gap, if any). */
  healthBeforeGap(i: number): number {
    return this.soa.cols.h0[i]!;
  }

  health(i: number): number {
    return this.soa.cols.health[i]!;
  }

  /** Gap class index of stream i as of the last step. */
  gapClass(i: number): number {
    return this.soa.cols.cls[i]!;
  }

  interval(i: number): number {
    return this.soa.cols.dt[i]!;
  }

  lastSeen(i: number): number {
    return this.soa.cols.last[i]!;
  }

  observations(i: number): number {
    return this.soa.cols.n[i]!;
  }

  static restore(state: unknown): GapTracker {
    return BaseBank.restoreAs(state, GapTracker.KIND, GapTracker.VERSION, DEFAULT_GAPS, (p) => new GapTracker(p));
  }
}
