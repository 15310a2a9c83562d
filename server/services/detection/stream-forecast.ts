import type { StreamForecast } from "@/lib/detectors/engine-port";
import type { ClockDomain } from "./clock-domains";

/** Below this health a stream's model is not trusted to forecast. */
const MIN_FORECAST_HEALTH = 0.5;
const MAX_FORECAST_STEPS = 2000;

/**
 * `EnginePort.forecast` of one stream of clock domain `d`: its expected path over `horizonMs`
 * and the growing uncertainty of its level; null when the stream is unknown, not healthy enough
 * or its domain has not stepped yet.
 */
export function forecastStream(d: ClockDomain, streamId: number, horizonMs: number): StreamForecast | null {
  const { engine, last } = d;
  const sid = String(streamId);
  const health = engine.streamHealth(sid);
  if (!health || health.health < MIN_FORECAST_HEALTH || !Number.isFinite(last)) return null;
  // One step ahead tells us the stream's forecast cadence; then cover the whole horizon.
  const probe = engine.forecast(sid, 2);
  const dt = probe.tsMs.length === 2 ? probe.tsMs[1]! - probe.tsMs[0]! : 0;
  if (!(dt > 0)) return null;
  const steps = Math.min(MAX_FORECAST_STEPS, Math.max(1, Math.ceil(horizonMs / dt)));
  const f = engine.forecast(sid, steps);
  // The band is ±z·σ·√(1+(k−1)α²): observation noise σ plus the level's growing uncertainty.
  // Predictions compare against an envelope built from past per-minute extremes, which
  // already holds the observation noise, so only the level part (with a small floor) is kept.
  const z = engine.options.bandZ;
  const s1 = (f.upper[0]! - f.expected[0]!) / z;
  const sigma = new Float64Array(steps);
  for (let k = 0; k < steps; k++) {
    const sk = (f.upper[k]! - f.expected[k]!) / z;
    sigma[k] = Math.max(0.1 * s1, Math.sqrt(Math.max(0, sk * sk - s1 * s1)));
  }
  return { tsMs: f.tsMs, expected: f.expected, sigma, lower: f.lower, upper: f.upper };
}
