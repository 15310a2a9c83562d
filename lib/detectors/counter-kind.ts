/**
 * Whether a stream's values are a counter's (a monotone cumulative total such as a request
 * count), decided from the values alone. One rule for both places that decide it: the engine's
 * streaming auto-detection (`DetectionEngine` with `autoKind`, the CLI and the evaluation), which
 * tallies one step at a time and decides after `COUNTER_MIN_DIFFS` steps, and the CSV import,
 * which has the whole column in hand (`tallyCounterSteps` over it) — so the two cannot drift.
 *
 * A step is a rise, a drop that is no counter reset (a gauge's move: a counter never goes
 * down except to restart, to below `COUNTER_RESET_RATIO` of where it was), or neither (no
 * change, a reset, a missing value). Counter-like: no gauge drop at all, at least
 * `COUNTER_MIN_RISE_SHARE` of the steps rises, and no negative value. Cost O(1) a step.
 *
 * Example: 100, 130, 170, 5, 40 … (reset at 5) is a counter after 30 such steps; 50, 52, 49 …
 * is not (49 < 52 is a gauge drop); fewer than 30 steps decide nothing (a gauge).
 */

/** Steps (differences between consecutive values) before the values decide. */
export const COUNTER_MIN_DIFFS = 30;
/** A drop to below this share of the previous value is a reset, not a gauge's move. */
export const COUNTER_RESET_RATIO = 0.2;
/** Share of the steps that must be rises. */
export const COUNTER_MIN_RISE_SHARE = 0.6;

/** One step from `prev` to `x`: 1 a rise, −1 a drop that is no reset, 0 otherwise (NaN included). */
export function counterStep(prev: number, x: number): -1 | 0 | 1 {
  if (x > prev) return 1;
  return x < prev && !(x < COUNTER_RESET_RATIO * prev) ? -1 : 0;
}

/**
 * The verdict on a tally of `diffs` steps of which `rises` rose and `badDrops` were gauge drops;
 * `nonNegative` says no value was below zero (the engine, which keeps no minimum, passes its
 * current value's sign). Callers check `diffs >= COUNTER_MIN_DIFFS` first where length matters.
 */
export function counterVerdict(diffs: number, rises: number, badDrops: number, nonNegative: boolean): boolean {
  return badDrops === 0 && rises >= COUNTER_MIN_RISE_SHARE * diffs && nonNegative;
}

export interface CounterTally {
  diffs: number;
  rises: number;
  badDrops: number;
  nonNegative: boolean;
}

/** The steps of a whole column in time order (NaN values skipped, as the engine skips missing ones). */
export function tallyCounterSteps(values: ArrayLike<number>): CounterTally {
  const t: CounterTally = { diffs: 0, rises: 0, badDrops: 0, nonNegative: true };
  let prev = Number.NaN;
  let has = false;
  for (let k = 0; k < values.length; k++) {
    const x = values[k]!;
    if (x !== x) continue;
    if (x < 0) t.nonNegative = false;
    if (has) {
      t.diffs++;
      const s = counterStep(prev, x);
      if (s > 0) t.rises++;
      else if (s < 0) t.badDrops++;
    }
    prev = x;
    has = true;
  }
  return t;
}

/** Whether a whole column is counter-like: enough steps, and the verdict on all of them. */
export function looksLikeCounter(values: ArrayLike<number>): boolean {
  const t = tallyCounterSteps(values);
  return t.diffs >= COUNTER_MIN_DIFFS && counterVerdict(t.diffs, t.rises, t.badDrops, t.nonNegative);
}
