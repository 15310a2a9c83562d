import type { Rng } from "./rng";

/** Poisson draw by inversion (small λ), for detector tests: one uniform per draw. */
export function poissonDraw(rng: Rng, lambda: number): number {
  const u = rng.next();
  let k = 0;
  let p = Math.exp(-lambda);
  let cdf = p;
  while (u > cdf && k < 1000) {
    k++;
    p *= lambda / k;
    cdf += p;
  }
  return k;
}
