/**
 * Seeded pseudo-random numbers for detectors (no `Math.random` anywhere in lib/detectors).
 *
 * Mulberry32 (Tommy Ettinger, 2017): 32-bit state, period 2^32, passes gjrand/PractRand at the
 * sizes we use (tree construction, sub-sampling). The whole state is one uint32, so it serialises
 * to JSON trivially and a restored generator continues the exact same sequence.
 */
export class Rng {
  private s: number;

  constructor(seed: number) {
    // Scramble the seed once (splitmix-style) so that seeds 1, 2, 3 give unrelated streams.
    let z = (seed >>> 0) + 0x9e3779b9;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    this.s = (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  get state(): number {
    return this.s;
  }

  static fromState(state: number): Rng {
    const r = new Rng(0);
    r.s = state >>> 0;
    return r;
  }
}
