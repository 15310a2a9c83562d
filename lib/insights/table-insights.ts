/**
 * `scoreTable` plus what the CLI and the evaluation add to each row, all strictly causal (row r
 * only sees rows ≤ r):
 * - `causes`: on flagged rows, the table's streams ranked by contribution to the anomaly
 *   (`lib/explain/cause-ranking.ts`), most likely first;
 * - `pAnomaly`: the probability that an anomaly opens on the table within `horizonMs`: the
 *   largest, over the gauge streams, probability that a robust trend of the last two hours
 *   (`levelExceedance` in `lib/predict/trend.ts`, Theil–Sen on the difference from the day
 *   before; the worker's predictor runs the same) carries the stream's level well past the range
 *   it kept over the past week (by a quarter of its width). A Holt-Winters exceedance of the
 *   weekly envelope was tried here and made ~3× the false predictions on slowly developing
 *   incidents for none more found;
 * - per-row coverage counts of the engine's one-step 95 % forecast band (gauges only).
 */
import type { DetectionEngine, StepResult } from "../detectors/engine";
import type { EngineOptionsInput } from "../detectors/options";
import { scoreTable, type ScoreTableInput, type ScoreTableResult } from "../detectors/score-table";
import { CauseRanker, counterRate, type CauseRow } from "../explain/cause-ranking";
import { levelExceedance, TrendTracker, type TrendOptions } from "../predict/trend";

/** z of a two-sided 95 % normal interval. */
export const Z95 = 1.959963984540054;
const DEFAULT_HORIZON_MS = 30 * 60_000;

export interface InsightOptions {
  horizonMs?: number;
  /** Most causes named per row. */
  causesLimit?: number;
  /** Keep each row's per-stream contributions (rows × streams) for evaluation. */
  keepContributions?: boolean;
  trend?: TrendOptions;
  margin?: number;
}

export interface TableInsights extends ScoreTableResult {
  streams: string[];
  /** Per row: ranked causes on flagged rows, else empty. */
  causes: string[][];
  pAnomaly: Float64Array;
  /** Per row: the stream behind `pAnomaly` (index into `streams`; −1 when none). */
  pStream: Int32Array;
  /** Per row: gauge points with a forecast band, and how many fell inside its 95 % interval. */
  bandPoints: Uint16Array;
  bandInside: Uint16Array;
  /** Row-major rows × streams: each row's per-stream contribution from score and forecast, when `keepContributions`. */
  evidence: Float32Array | null;
  /** Row-major rows × streams: the values the ranker saw (gauges' values, counters' rates; NaN for gaps), when `keepContributions`. */
  values: Float64Array | null;
}

export function scoreTableWithInsights(table: ScoreTableInput, config?: EngineOptionsInput, opts: InsightOptions = {}): TableInsights {
  const rows = table.timestampsMs.length;
  const streams = table.columns.map((c) => c.name);
  const n = streams.length;
  const horizonMs = opts.horizonMs ?? DEFAULT_HORIZON_MS;
  const limit = opts.causesLimit ?? 10;
  const ranker = new CauseRanker(streams);
  const trend = new TrendTracker(n, opts.trend);
  let lastBucket = Number.NaN;
  const causes: string[][] = new Array<string[]>(rows);
  const pAnomaly = new Float64Array(rows);
  const pArg = new Int32Array(rows).fill(-1);
  let arg = -1;
  const bandPoints = new Uint16Array(rows);
  const bandInside = new Uint16Array(rows);
  const evidence = opts.keepContributions ? new Float32Array(rows * n) : null;
  const seen = opts.keepContributions ? new Float64Array(rows * n) : null;
  // the ranker's values: a gauge's value, a counter's rate (its forecast is of the rate); the
  // trend predictor takes gauges only
  const value = new Float64Array(n);
  const level = new Float64Array(n);
  const sigma = new Float64Array(n);
  const row: CauseRow = { score: new Float64Array(0), value, expected: new Float64Array(0), sigma };
  // per counter, its last reading since it became one (as the engine keeps it: NaN until then)
  const lastRaw = new Float64Array(n).fill(Number.NaN);
  const lastRawT = new Float64Array(n).fill(Number.NaN);
  let slots: Int32Array | null = null;
  let gauge: Uint8Array | null = null;
  let p = 0;

  const observe = (r: number, s: StepResult, engine: DetectionEngine, flagged: boolean): void => {
    if (!slots || !gauge) {
      slots = Int32Array.from(streams, (id) => engine.streamIndex(id));
      gauge = new Uint8Array(n);
    }
    const bandZ = engine.options.bandZ;
    const t = s.tsMs;
    const score = new Float64Array(n);
    const expected = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const i = slots[k]!;
      const x = table.columns[k]!.values[r]!;
      // counters are scored as rates: their raw value is not on the forecast's scale
      const kind = engine.streamKind(streams[k]!);
      gauge[k] = kind === "gauge" ? 1 : 0;
      level[k] = gauge[k] ? x : Number.NaN;
      value[k] = level[k]!;
      if (kind === "counter") {
        value[k] = counterRate(lastRaw[k]!, lastRawT[k]!, x, t);
        if (x === x) {
          lastRaw[k] = x;
          lastRawT[k] = t;
        }
      } else lastRaw[k] = Number.NaN;
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
    if (seen) seen.set(value, r * n);
    causes[r] = flagged ? ranker.rank(limit).map((c) => c.stream) : [];
    trend.observe(t, level);
    // the trend only changes when a bucket completes; every other one is often enough for drifts
    // that take hours, at half the cost
    const bucket = Math.floor(t / (2 * trend.bucketMs));
    if (bucket !== lastBucket) {
      lastBucket = bucket;
      p = 0;
      arg = -1;
      for (let k = 0; k < n; k++) {
        if (!gauge[k]) continue;
        const q = levelExceedance(trend, k, t, horizonMs, opts.margin)?.probability ?? 0;
        if (q > p) {
          p = q;
          arg = k;
        }
      }
    }
    pAnomaly[r] = p;
    pArg[r] = arg;
  };
  const res = scoreTable(table, config, observe);
  return { ...res, streams, causes, pAnomaly, pStream: pArg, bandPoints, bandInside, evidence, values: seen };
}
