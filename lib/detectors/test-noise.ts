import type { Rng } from "./rng";

/** Approximately standard normal noise for detector tests (sum of 12 uniforms less 6). */
export function gauss(rng: Rng): number {
  let s = 0;
  for (let k = 0; k < 12; k++) s += rng.next();
  return s - 6;
}
