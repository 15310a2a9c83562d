/**
 * Signal building blocks: seasonality, noise and anomaly shapes. Pure functions over
 * Float64Array; every random helper takes its own Rng so callers control stream splitting.
 */
import type { Rng } from "./rng";

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Hour of day in [0, 24) for a UTC timestamp shifted by `utcOffsetHours`. */
export function hourOfDay(tMs: number, utcOffsetHours = 0): number {
  const h = ((tMs + utcOffsetHours * HOUR_MS) % DAY_MS) / HOUR_MS;
  return h < 0 ? h + 24 : h;
}

/** Day of week, 0 = Monday … 6 = Sunday, fractional (e.g. 5.5 = Saturday noon). */
export function dayOfWeek(tMs: number, utcOffsetHours = 0): number {
  // 1970-01-01 was a Thursday (index 3 with Monday = 0).
  const days = (tMs + utcOffsetHours * HOUR_MS) / DAY_MS + 3;
  const d = days % 7;
  return d < 0 ? d + 7 : d;
}

/**
 * Diurnal user-traffic shape in [0, 1]: trough around 04:00, steep morning ramp, broad
 * afternoon peak, gentle evening decline (two harmonics, not a plain sinusoid).
 */
export function diurnalShape(tMs: number, utcOffsetHours = 0): number {
  const h = hourOfDay(tMs, utcOffsetHours);
  const x = (2 * Math.PI * (h - 4)) / 24;
  const v = 0.5 - 0.5 * Math.cos(x) + 0.12 * Math.sin(2 * x) - 0.06 * Math.cos(2 * x) + 0.06;
  return Math.min(1, Math.max(0, v / 1.1));
}

/**
 * Weekly multiplier: 1 on weekdays, `weekendFactor` on Saturday and Sunday, with ~3 h smooth
 * transitions around midnight so there is no step at 00:00.
 */
export function weeklyFactor(tMs: number, weekendFactor: number, utcOffsetHours = 0): number {
  const d = dayOfWeek(tMs, utcOffsetHours);
  const level = (day: number): number => (day === 5 || day === 6 ? weekendFactor : 1);
  const day = Math.floor(d);
  const frac = d - day;
  const edge = 0.125; // 3 h
  const smooth = (x: number): number => x * x * (3 - 2 * x);
  if (frac < edge) {
    const prev = level((day + 6) % 7);
    const w = smooth(0.5 + frac / (2 * edge));
    return prev + (level(day) - prev) * w;
  }
  if (frac > 1 - edge) {
    const nextLevel = level((day + 1) % 7);
    const w = smooth((frac - (1 - edge)) / (2 * edge));
    return level(day) + (nextLevel - level(day)) * w;
  }
  return level(day);
}

export interface TrafficOptions {
  /** Level at the weekday peak. */
  peak: number;
  /** Fraction of the peak kept at the nightly trough (0–1). */
  troughRatio: number;
  weekendFactor: number;
  utcOffsetHours?: number;
  /** Multiplicative growth per day (e.g. 0.01 = +1 %/day), a normal trend. */
  growthPerDay?: number;
}

/** Smooth expected traffic (requests/s, or any load-like quantity). */
export function traffic(timestampsMs: Float64Array, o: TrafficOptions): Float64Array {
  const out = new Float64Array(timestampsMs.length);
  const t0 = timestampsMs[0] ?? 0;
  for (let i = 0; i < out.length; i++) {
    const t = timestampsMs[i] ?? 0;
    const shape = o.troughRatio + (1 - o.troughRatio) * diurnalShape(t, o.utcOffsetHours);
    const growth = Math.pow(1 + (o.growthPerDay ?? 0), (t - t0) / DAY_MS);
    out[i] = o.peak * shape * weeklyFactor(t, o.weekendFactor, o.utcOffsetHours) * growth;
  }
  return out;
}

/**
 * AR(1) gaussian noise with marginal standard deviation `sigma` and lag-1 correlation `phi`
 * (real metrics are autocorrelated; white noise is too easy).
 */
export function ar1Noise(rng: Rng, n: number, sigma: number, phi: number): Float64Array {
  const out = new Float64Array(n);
  const innov = sigma * Math.sqrt(1 - phi * phi);
  let x = sigma * rng.gaussian();
  for (let i = 0; i < n; i++) {
    x = phi * x + innov * rng.gaussian();
    out[i] = x;
  }
  return out;
}

/**
 * Sparse single-row heavy-tail blips (GC pauses, a slow scrape, one bad request): with
 * probability `ratePerRow` a row gets ±scale·(3 + Exp(2)) — 3σ to >10σ. These are NOT anomalies;
 * they exist to punish detectors that page on a single extreme sample.
 * Always consumes the same number of draws per row.
 */
export function heavyTailBlips(
  rng: Rng,
  n: number,
  ratePerRow: number,
  scale: number,
  sign: "up" | "both" = "both",
): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const hit = rng.next() < ratePerRow;
    const mag = scale * (3 + rng.exponential(2));
    const s = sign === "up" || rng.next() < 0.5 ? 1 : -1;
    if (hit) out[i] = s * mag;
  }
  return out;
}

/**
 * Short scrape gaps (1–`maxLen` rows set to NaN) at `ratePerRow`; not anomalies.
 * Returns the gap mask (1 = missing) so several streams of one target can share it.
 */
export function scrapeGapMask(rng: Rng, n: number, ratePerRow: number, maxLen: number): Uint8Array {
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const hit = rng.next() < ratePerRow;
    const len = 1 + Math.floor(rng.next() * maxLen);
    if (hit) for (let k = i; k < Math.min(n, i + len); k++) mask[k] = 1;
  }
  return mask;
}

export function applyMask(values: Float64Array, mask: Uint8Array): void {
  for (let i = 0; i < values.length; i++) if (mask[i]) values[i] = Number.NaN;
}

export function add(a: Float64Array, ...rest: Float64Array[]): Float64Array {
  const out = Float64Array.from(a);
  for (const r of rest) for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) + (r[i] ?? 0);
  return out;
}

export function map(a: Float64Array, f: (v: number, i: number) => number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f(a[i] ?? 0, i);
  return out;
}

export function clamp(a: Float64Array, lo: number, hi: number): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i] ?? 0;
    if (!Number.isNaN(v)) a[i] = Math.min(hi, Math.max(lo, v));
  }
}

/**
 * Envelope in [0, 1] over rows [i0, i1]: linear rise over `riseRows`, plateau, linear decay
 * over `decayRows` ending at i1.
 */
export function envelope(i: number, i0: number, i1: number, riseRows: number, decayRows: number): number {
  if (i < i0 || i > i1) return 0;
  const up = riseRows > 0 ? Math.min(1, (i - i0 + 1) / riseRows) : 1;
  const down = decayRows > 0 ? Math.min(1, (i1 - i + 1) / decayRows) : 1;
  return Math.min(up, down);
}

/** values[i] += delta · envelope(i) for i in [i0, i1]. */
export function addBump(
  values: Float64Array,
  i0: number,
  i1: number,
  delta: number,
  riseRows = 1,
  decayRows = 1,
): void {
  for (let i = Math.max(0, i0); i <= Math.min(values.length - 1, i1); i++) {
    values[i] = (values[i] ?? 0) + delta * envelope(i, i0, i1, riseRows, decayRows);
  }
}

/** values[i] *= 1 + (factor − 1) · envelope(i) for i in [i0, i1]. */
export function scaleBump(
  values: Float64Array,
  i0: number,
  i1: number,
  factor: number,
  riseRows = 1,
  decayRows = 1,
): void {
  for (let i = Math.max(0, i0); i <= Math.min(values.length - 1, i1); i++) {
    values[i] = (values[i] ?? 0) * (1 + (factor - 1) * envelope(i, i0, i1, riseRows, decayRows));
  }
}

/** Cumulative counter from a per-row increment series; resets to 0 at the given rows. */
export function cumulate(increments: Float64Array, resetRows: number[], start = 0): Float64Array {
  const out = new Float64Array(increments.length);
  const resets = new Set(resetRows);
  let c = start;
  for (let i = 0; i < increments.length; i++) {
    if (resets.has(i)) c = 0;
    c += increments[i] ?? 0;
    out[i] = c;
  }
  return out;
}
