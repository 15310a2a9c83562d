/**
 * `scoreTable` plus what the CLI and the evaluation add to each row, all strictly causal (row r
 * only sees rows ≤ r):
 * - `causes`: on flagged rows, the table's streams ranked by contribution to the anomaly
 *   (`lib/explain/cause-ranking.ts`), most likely first;
 * - `pAnomaly`: the probability that an anomaly opens on the table within `horizonMs`, from the
 *   engine's Holt-Winters forecasts against each stream's recent envelope
 *   (`lib/predict/exceedance.ts`, `envelope.ts`): the largest stream probability;
 * - per-row coverage counts of the engine's one-step 95 % forecast band (gauges only).
 */
import type { DetectionEngine, StepResult } from "../detectors/engine";
import type { EngineOptionsInput } from "../detectors/options";
import { scoreTable, type ScoreTableInput, type ScoreTableResult } from "../detectors/score-table";
import { CauseRanker, type CauseRow } from "../explain/cause-ranking";
import { EnvelopeTracker } from "../predict/envelope";
import { exceedance } from "../predict/exceedance";

/** z of a two-sided 95 % normal interval. */
export const Z95 = 1.959963984540054;
const DEFAULT_HORIZON_MS = 30 * 60_000;
/** Forecast work per row (streams × horizon steps) above which the probability is refreshed less often. */
const FORECAST_BUDGET = 4_000;
const ENVELOPE_MARGIN = 0.02;

export interface InsightOptions {
  horizonMs?: number;
  /** Most causes named per row. */
  causesLimit?: number;
  /** Keep each row's per-stream contributions (rows × streams) for evaluation. */
  keepContributions?: boolean;
}

export interface TableInsights extends ScoreTableResult {
  streams: string[];
  /** Per row: ranked causes on flagged rows, else empty. */
  causes: string[][];
  pAnomaly: Float64Array;
  /** Per row: gauge points with a forecast band, and how many fell inside its 95 % interval. */
  bandPoints: Uint16Array;
  bandInside: Uint16Array;
  /** Row-major rows × streams: each row's per-stream contribution, when `keepContributions`. */
  evidence: Float32Array | null;
}

export function scoreTableWithInsights(table: ScoreTableInput, config?: EngineOptionsInput, opts: InsightOptions = {}): TableInsights {
  const rows = table.timestampsMs.length;
  const streams = table.columns.map((c) => c.name);
  const n = streams.length;
  const horizonMs = opts.horizonMs ?? DEFAULT_HORIZON_MS;
  const limit = opts.causesLimit ?? 10;
  const ranker = new CauseRanker(streams);
  const env = new EnvelopeTracker(n);
  const causes: string[][] = new Array<string[]>(rows);
  const pAnomaly = new Float64Array(rows);
  const bandPoints = new Uint16Array(rows);
  const bandInside = new Uint16Array(rows);
  const evidence = opts.keepContributions ? new Float32Array(rows * n) : null;
  const value = new Float64Array(n);
  const sigma = new Float64Array(n);
  const row: CauseRow = { score: new Float64Array(0), value, expected: new Float64Array(0), sigma };
  let slots: Int32Array | null = null;
  let gauge: Uint8Array | null = null;
  let lastT = Number.NaN;
  let stepMs = 0;
  let p = 0;
  let sinceForecast = Infinity;

  const observe = (r: number, s: StepResult, engine: DetectionEngine, flagged: boolean): void => {
    if (!slots || !gauge) {
      slots = Int32Array.from(streams, (id) => engine.streamIndex(id));
      gauge = new Uint8Array(n);
    }
    const bandZ = engine.options.bandZ;
    const t = s.tsMs;
    if (t > lastT) stepMs = Number.isFinite(lastT) ? t - lastT : stepMs;
    lastT = t;
    const score = new Float64Array(n);
    const expected = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const i = slots[k]!;
      const x = table.columns[k]!.values[r]!;
      // counters are scored as rates: their raw value is not on the forecast's scale
      gauge[k] = engine.streamKind(streams[k]!) === "gauge" ? 1 : 0;
      value[k] = gauge[k] ? x : Number.NaN;
      score[k] = s.score[i]!;
      expected[k] = s.expected[i]!;
      sigma[k] = (s.upper[i]! - s.expected[i]!) / bandZ;
      if (gauge[k] && x === x && Number.isFinite(expected[k]!) && sigma[k]! > 0) {
        bandPoints[r]!++;
        if (Math.abs(x - expected[k]!) <= Z95 * sigma[k]!) bandInside[r]!++;
      }
    }
    row.score = score;
    row.expected = expected;
    ranker.observe(t, row, flagged);
    if (evidence) evidence.set(ranker.current, r * n);
    causes[r] = flagged ? ranker.rank(limit).map((c) => c.stream) : [];
    env.observe(t, value);
    const steps = stepMs > 0 ? Math.max(1, Math.min(360, Math.ceil(horizonMs / stepMs))) : 0;
    const every = Math.max(1, Math.ceil((n * steps) / FORECAST_BUDGET));
    if (steps > 0 && ++sinceForecast >= every) {
      sinceForecast = 0;
      p = 0;
      for (let k = 0; k < n; k++) {
        if (!gauge[k]) continue;
        const e0 = env.envelope(k);
        if (!e0 || !(e0.high > e0.low)) continue;
        // many metrics sit on a floor or ceiling (0 %, a pool's size): a level at the edge of its
        // usual range has not left it, so the range is widened by 2 % of its width
        const margin = ENVELOPE_MARGIN * (e0.high - e0.low);
        const e = { low: e0.low - margin, high: e0.high + margin };
        const f = engine.forecast(streams[k]!, steps);
        // the uncertainty of the forecast level, without the one-step observation noise: an anomaly
        // opens when the level leaves the range, not when one noisy point might
        const sd = new Float64Array(steps);
        const s1 = (f.upper[0]! - f.expected[0]!) / bandZ;
        for (let h = 0; h < steps; h++) {
          const sh = (f.upper[h]! - f.expected[h]!) / bandZ;
          sd[h] = Math.sqrt(Math.max(0, sh * sh - s1 * s1));
        }
        const q = exceedance({ tsMs: f.tsMs, expected: f.expected, sigma: sd }, e).probability;
        if (q > p) p = q;
      }
    }
    pAnomaly[r] = p;
  };
  const res = scoreTable(table, config, observe);
  return { ...res, streams, causes, pAnomaly, bandPoints, bandInside, evidence };
}
