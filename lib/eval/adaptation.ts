/**
 * Adaptation time after a persistent regime change (a deploy that moves a level for good).
 *
 * Definition: the time from the shift (`atMs`) until the detector goes quiet — stops flagging
 * for at least `settleMs` (default 60 min) in a row. Flags are chained from the shift: a flag
 * less than `settleMs` after the previous flagged row extends the chain; the first quiet stretch
 * of `settleMs` ends it, and adaptation = end of the last chained row − atMs. 0 if nothing is
 * flagged in the first `settleMs` (it adapted at once — or missed the change, which recall
 * reports). If the chain reaches the end of the horizon (default 24 h, clipped to the data) the
 * detector has not adapted: `adapted = false`, `sec` = horizon (a lower bound).
 * An isolated false alarm hours later does not count; continual flapping does.
 */
import { lowerBound } from "./events";

export const DEFAULT_ADAPTATION_HORIZON_MS = 24 * 3_600_000;
export const DEFAULT_SETTLE_MS = 60 * 60_000;

export interface AdaptationInput {
  timestampsMs: ArrayLike<number>;
  /** Per-row flags (isAnomaly, or score >= threshold). */
  flags: ArrayLike<number>;
  atMs: number;
  horizonMs?: number;
  settleMs?: number;
}

export interface Adaptation {
  sec: number;
  adapted: boolean;
  horizonSec: number;
}

export function adaptationTime(input: AdaptationInput): Adaptation {
  const { timestampsMs: ts, flags, atMs } = input;
  const settle = input.settleMs ?? DEFAULT_SETTLE_MS;
  const n = Math.min(ts.length, flags.length);
  const step = n > 1 ? ((ts[n - 1] ?? 0) - (ts[0] ?? 0)) / (n - 1) : 0;
  const endMs = Math.min(atMs + (input.horizonMs ?? DEFAULT_ADAPTATION_HORIZON_MS), (ts[n - 1] ?? atMs) + step);
  const horizonSec = (endMs - atMs) / 1000;
  const a = lowerBound(ts, atMs);
  const b = Math.min(n, lowerBound(ts, endMs)); // exclusive
  let quietSince = atMs; // end of the last chained flagged row
  for (let i = a; i < b; i++) {
    if ((flags[i] ?? 0) <= 0) continue;
    const t = ts[i] ?? 0;
    if (t - quietSince >= settle) break;
    quietSince = t + step;
  }
  if (endMs - quietSince < settle && quietSince > atMs) return { sec: horizonSec, adapted: false, horizonSec };
  return { sec: (quietSince - atMs) / 1000, adapted: true, horizonSec };
}

/** Flags from a score and threshold (score >= threshold). */
export function flagsFromScore(score: ArrayLike<number>, threshold: number): Uint8Array {
  const out = new Uint8Array(score.length);
  for (let i = 0; i < score.length; i++) out[i] = (score[i] ?? 0) >= threshold ? 1 : 0;
  return out;
}
