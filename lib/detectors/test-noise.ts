import type { Rng } from "./rng";

/** Approximately standard normal noise for detector tests (sum of 12 uniforms less 6). */
export function gauss(rng: Rng): number {
  let s = 0;
  for (let k = 0; k < 12; k++) s += rng.next();
  return s - 6;
}

/**
 * Row r of 8 streams at 1-minute steps with daily seasonality and noise; stream 3 is a
 * counter-like ramp, stream 5 steps up by 60 from row `shiftAt` on.
 */
export function seasonalRow(r: number, rng: Rng, shiftAt = Infinity): Float64Array {
  const v = new Float64Array(8);
  for (let i = 0; i < 8; i++) v[i] = 50 + 10 * i + 8 * Math.sin((2 * Math.PI * r) / 1440 + i) + gauss(rng);
  v[3] = 1000 + 3 * r + gauss(rng);
  if (r >= shiftAt) v[5] = v[5]! + 60;
  return v;
}
