import { poissonInversion } from "../scenarios/rng";
import type { Rng } from "./rng";

/** Poisson draw by inversion (small λ), for detector tests: one uniform per draw. */
export function poissonDraw(rng: Rng, lambda: number): number {
  return poissonInversion(rng.next(), lambda);
}
