/**
 * Deterministic pseudo-noise in [−0.5, 0.5) from an index (and an optional stream key), the
 * classic sin-hash: cheap, stateless and identical on every run, for test and seed data.
 */
export function hashNoise(i: number, k = 0): number {
  const x = Math.sin(i * 12.9898 + k * 78.233) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}
