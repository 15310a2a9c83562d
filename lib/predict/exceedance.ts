/**
 * Probability that a stream leaves its normal operating envelope within a forecast window.
 *
 * Inputs: a forecast path (expected value and 1-σ spread per future step, e.g. from the
 * Holt-Winters model with damped trend, whose spread widens with the horizon) and the envelope
 * the stream has stayed inside over the past week (low/high quantiles of per-minute min/max).
 * Per step h, with X_h ~ N(μ_h, σ_h²): p_h = P(X_h > hi) + P(X_h < lo). The window probability is
 * max_h p_h — a lower bound of the union that does not double-count the strongly correlated
 * steps of one path. The ETA is the first step where p_h ≥ 0.5 (the forecast itself crosses).
 * A leak or a filling disk crosses before it happens; a noisy stream with a flat forecast does not.
 */

/** Standard normal CDF via erfc (Abramowitz & Stegun 7.1.26; |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  if (z === Number.POSITIVE_INFINITY) return 1;
  if (z === Number.NEGATIVE_INFINITY) return 0;
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? 1 - y / 2 : y / 2;
}

export interface ForecastPath {
  tsMs: ArrayLike<number>;
  expected: ArrayLike<number>;
  sigma: ArrayLike<number>;
}

export interface Envelope {
  low: number;
  high: number;
}

export interface Exceedance {
  probability: number;
  etaMs: number | null;
  direction: "above" | "below" | null;
  /** Forecast value at the ETA (or at the most likely step). */
  valueAtEta: number | null;
}

export function exceedance(path: ForecastPath, env: Envelope): Exceedance {
  let best = 0;
  let bestDir: "above" | "below" | null = null;
  let bestValue: number | null = null;
  let eta: number | null = null;
  let etaValue: number | null = null;
  for (let h = 0; h < path.tsMs.length; h++) {
    const mu = path.expected[h]!;
    const s = Math.max(path.sigma[h]!, 1e-12 * Math.max(1, Math.abs(mu)));
    if (!Number.isFinite(mu) || !Number.isFinite(s)) continue;
    const up = 1 - normalCdf((env.high - mu) / s);
    const down = normalCdf((env.low - mu) / s);
    const p = up + down;
    if (p > best) {
      best = p;
      bestDir = up >= down ? "above" : "below";
      bestValue = mu;
    }
    if (eta === null && p >= 0.5) {
      eta = path.tsMs[h]!;
      etaValue = mu;
    }
  }
  return { probability: Math.min(1, best), etaMs: eta, direction: best > 0 ? bestDir : null, valueAtEta: eta !== null ? etaValue : bestValue };
}
