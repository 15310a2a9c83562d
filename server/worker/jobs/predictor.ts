import { exceedance } from "@/lib/predict/exceedance";
import { streamEnvelopes, upsertPredictions, type EnvelopeRow, type PredictionRow } from "../../repos/predictions-repo";
import type { EnginePort, StreamForecast } from "@/lib/detectors/engine-port";

const HORIZON_MS = 30 * 60_000;
const ENVELOPE_WINDOW_MS = 7 * 86_400_000;
const ENVELOPE_REFRESH_MS = 15 * 60_000;
/** Six hours of minutes before a stream's "normal range" means anything. */
const MIN_ENVELOPE_BUCKETS = 360;
const STORED_POINTS = 60;

/**
 * Every minute: forecasts each stream 30 minutes ahead with the engine's Holt-Winters model and
 * stores the probability that it leaves the range it kept over the past week (see
 * lib/predict/exceedance.ts), with an ETA when the forecast itself crosses. Predicted incidents
 * are the streams whose probability is high; the stream page draws the stored forecast band.
 */
export class Predictor {
  static readonly intervalMs = 60_000;
  private envelopes = new Map<number, EnvelopeRow>();
  private envelopesAt = -Infinity;

  /** `engine`: the worker's detectors (scale-out: all the partitions this worker owns now). */
  constructor(private readonly engine: () => Pick<EnginePort, "streamIds" | "forecast">) {}

  async run(nowMs = Date.now()): Promise<number> {
    if (nowMs - this.envelopesAt > ENVELOPE_REFRESH_MS) {
      this.envelopes = await streamEnvelopes(nowMs - ENVELOPE_WINDOW_MS);
      this.envelopesAt = nowMs;
    }
    const engine = this.engine();
    const rows: PredictionRow[] = [];
    for (const id of engine.streamIds()) {
      const env = this.envelopes.get(id);
      if (!env || env.buckets < MIN_ENVELOPE_BUCKETS || !(env.high > env.low)) continue;
      const f = engine.forecast(id, HORIZON_MS);
      if (!f || f.tsMs.length === 0) continue;
      const ex = exceedance(f, env);
      rows.push({
        streamId: id,
        computedAtMs: nowMs,
        horizonMs: HORIZON_MS,
        probability: round(ex.probability),
        etaMs: ex.etaMs,
        direction: ex.direction,
        envelopeLow: env.low,
        envelopeHigh: env.high,
        forecast: thin(f),
      });
    }
    await upsertPredictions(rows);
    return rows.length;
  }
}

function round(p: number): number {
  return Math.round(p * 1e4) / 1e4;
}

/** At most STORED_POINTS evenly spaced forecast points with the model's observation band. */
function thin(f: StreamForecast): PredictionRow["forecast"] {
  const stride = Math.max(1, Math.ceil(f.tsMs.length / STORED_POINTS));
  const out: PredictionRow["forecast"] = { t: [], expected: [], lower: [], upper: [] };
  for (let i = stride - 1; i < f.tsMs.length; i += stride) {
    out.t.push(f.tsMs[i]!);
    out.expected.push(f.expected[i]!);
    out.lower.push(f.lower[i]!);
    out.upper.push(f.upper[i]!);
  }
  return out;
}
