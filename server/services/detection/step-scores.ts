import type { StepScores } from "@/lib/detectors/engine-port";

/** The expected band is only given once the model is trusted; warm-up bands are too wide to read. */
export const MIN_BAND_CONFIDENCE = 0.3;

/** Score columns for `capacity` rows, reused step after step (see `StepScores`). */
export function emptyScores(capacity: number): StepScores {
  const f = () => new Float64Array(capacity);
  return { n: 0, at: new Int32Array(capacity), streamIds: new Int32Array(capacity), tsMs: f(), score: f(), confidence: f(), expected: f(), lower: f(), upper: f() };
}
