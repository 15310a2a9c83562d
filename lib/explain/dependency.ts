import { chartBucketMs } from "../series/chart-buckets";
import { leadLag } from "./lead-lag";

/**
 * The dependency graph's edges: two streams are linked when their moves agree, at some lag up to
 * `MAX_LAG_MS`, with |r| ≥ `EDGE_MIN_CORRELATION` (lead–lag of first differences, see
 * lead-lag.ts) over the hours around an event. The anomaly page draws these edges; incident
 * grouping joins anomalies of linked streams that overlap in time.
 */

export const EDGE_MIN_CORRELATION = 0.5;
/** How far one stream may lead another for their moves to count as one dependency. */
export const MAX_LAG_MS = 30 * 60_000;
/** Context read before an onset to correlate the streams' moves. */
export const CONTEXT_MS = 2 * 3_600_000;
/** Buckets of the shared grid over the context. */
export const GRID_POINTS = 240;

/**
 * A shared bucket grid over [fromMs, toMs]: about `points` buckets as wide as `readSeries` makes
 * them for the same range (`chartBucketMs`), so each point it returns lands on its own bucket.
 */
export interface Grid {
  baseMs: number;
  bucketMs: number;
  n: number;
}

export function gridOver(fromMs: number, toMs: number, points = GRID_POINTS): Grid {
  const bucketMs = chartBucketMs(toMs - fromMs, points);
  return { baseMs: Math.floor(fromMs / bucketMs) * bucketMs, bucketMs, n: Math.ceil((toMs - fromMs) / bucketMs) + 1 };
}

/** Points placed on the grid (NaN where a bucket has none). */
export function onGrid(g: Grid, points: readonly { t: number; v: number | null }[]): Float64Array {
  const arr = new Float64Array(g.n).fill(Number.NaN);
  for (const p of points) {
    const k = Math.round((p.t - g.baseMs) / g.bucketMs);
    if (k >= 0 && k < g.n && p.v !== null) arr[k] = p.v;
  }
  return arr;
}

export interface DependencyEdge {
  /** the stream that moved first (`x` on a tie) */
  leader: "x" | "y";
  lagSec: number;
  correlation: number;
}

/** The edge between two series on one grid, or null when their moves do not agree enough (or cannot be compared). */
export function dependencyEdge(x: Float64Array, y: Float64Array, g: Grid): DependencyEdge | null {
  const maxLag = Math.max(1, Math.round(MAX_LAG_MS / g.bucketMs));
  const ll = leadLag(x, y, maxLag);
  if (ll.correlation === null || Math.abs(ll.correlation) < EDGE_MIN_CORRELATION) return null;
  return { leader: ll.lag >= 0 ? "x" : "y", lagSec: (Math.abs(ll.lag) * g.bucketMs) / 1000, correlation: Math.round(ll.correlation * 1000) / 1000 };
}
