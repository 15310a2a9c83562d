import { levelExceedance, TREND_DEFAULTS, TrendTracker } from "@/lib/predict/trend";
import { upsertPredictions, type PredictionRow } from "../../repos/predictions-repo";
import { gaugeMinuteMeans } from "../../repos/storage/minute-reads";
import type { EnginePort, StreamForecast } from "@/lib/detectors/engine-port";

const HORIZON_MS = 30 * 60_000;
const MINUTE_MS = 60_000;
/** Minutes younger than this may still be rolled up: the trend only learns older ones. */
const SETTLE_MS = 2 * MINUTE_MS;
/** A new stream's past the trend needs: its week of levels before the window, and the horizon. */
const BACKFILL_MS = TREND_DEFAULTS.rangeMs + TREND_DEFAULTS.windowMs + HORIZON_MS;
const STORED_POINTS = 60;

/**
 * Every minute: the probability that each gauge stream's level leaves the range it kept over the
 * past week within 30 minutes, from the robust trend of its last two hours — the predictor the
 * CLI's `p_anomaly_30m` column and the evaluation measure (`levelExceedance`,
 * lib/predict/trend.ts) — with an ETA where the projected level crosses that range. The stream
 * page draws the engine's Holt-Winters forecast band beside it.
 *
 * The trend learns from the 1-minute rollup (a stream new to this worker is backfilled with its
 * past week; then each run adds the minutes since the last). State: one TrendTracker per gauge
 * stream, a week of 5-minute buckets (~41 KB).
 */
export class Predictor {
  static readonly intervalMs = 60_000;
  private readonly trackers = new Map<number, TrendTracker>();
  /** Minutes before this have been fed to every tracker. */
  private fedUntilMs = -Infinity;

  /** `engine`: the worker's detectors (scale-out: all the partitions this worker owns now). */
  constructor(private readonly engine: () => Pick<EnginePort, "streamIds" | "forecast">) {}

  async run(nowMs = Date.now()): Promise<number> {
    const engine = this.engine();
    const upToMs = Math.floor((nowMs - SETTLE_MS) / MINUTE_MS) * MINUTE_MS;
    const ids = engine.streamIds();
    const owned = new Set(ids);
    for (const id of this.trackers.keys()) if (!owned.has(id)) this.trackers.delete(id);
    const fresh = ids.filter((id) => !this.trackers.has(id));
    if (upToMs > this.fedUntilMs) {
      const known = [...this.trackers.keys()];
      const [later, backfill] = await Promise.all([
        known.length ? gaugeMinuteMeans(this.fedUntilMs, upToMs, known) : [],
        gaugeMinuteMeans(upToMs - BACKFILL_MS, upToMs, fresh),
      ]);
      for (const id of fresh) this.trackers.set(id, new TrendTracker(1));
      for (const m of [...later, ...backfill]) this.trackers.get(m.streamId)?.observe(m.t, [m.mean]);
      this.fedUntilMs = upToMs;
    }
    const rows: PredictionRow[] = [];
    for (const id of ids) {
      const tr = this.trackers.get(id);
      const ex = tr ? levelExceedance(tr, 0, this.fedUntilMs, HORIZON_MS) : null;
      if (!ex) continue;
      const f = engine.forecast(id, HORIZON_MS);
      rows.push({
        streamId: id,
        computedAtMs: nowMs,
        horizonMs: HORIZON_MS,
        probability: round(ex.probability),
        etaMs: ex.etaMs,
        direction: ex.direction,
        envelopeLow: ex.low,
        envelopeHigh: ex.high,
        forecast: f && f.tsMs.length ? thin(f) : { t: [], expected: [], lower: [], upper: [] },
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
