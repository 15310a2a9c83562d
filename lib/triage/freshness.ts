/**
 * How current a stream and an anomaly are. "Historical" is decided by the data's age when Omen
 * saw it (anomaly time versus the time its row was created), never by today's date: an import
 * or a backfill of last month finds anomalies that were over long before anyone could act.
 */

/** An anomaly whose data was already this old when it was detected came from history. */
export const HISTORICAL_LAG_MS = 60 * 60_000;

export function isHistorical(a: { startMs: number; endMs: number | null; createdAtMs: number }): boolean {
  return a.createdAtMs - (a.endMs ?? a.startMs) > HISTORICAL_LAG_MS;
}

const MIN_STALE_MS = 5 * 60_000;
const STALE_STEPS = 5;

/** Typical spacing of time-ordered points (median of positive steps); 0 with fewer than 2. */
export function typicalStep(ts: readonly number[]): number {
  // a typed array sorts numerically without a comparator call per pair (the overview does this per stream)
  const d = new Float64Array(Math.max(0, ts.length - 1));
  let n = 0;
  for (let i = 1; i < ts.length; i++) if (ts[i]! > ts[i - 1]!) d[n++] = ts[i]! - ts[i - 1]!;
  if (n === 0) return 0;
  return d.subarray(0, n).sort()[n >> 1]!;
}

/** A stream is stale when its newest sample is older than several of its usual steps (at least 5 minutes). */
export function staleAfterMs(stepMs: number): number {
  return Math.max(MIN_STALE_MS, STALE_STEPS * stepMs);
}

export function isStale(lastSampleAtMs: number | null, stepMs: number, nowMs: number): boolean {
  return lastSampleAtMs === null || nowMs - lastSampleAtMs > staleAfterMs(stepMs);
}

/** A stream with a sample at or after this time is not stale at `nowMs`, whatever its step (`isStale` needs no step for it). */
export function freshWhateverStepSince(nowMs: number): number {
  return nowMs - MIN_STALE_MS;
}

/** "12 s ago", "4 min ago", "3 h ago", "5 d ago"; "no samples" when there is none. */
export function formatAge(lastMs: number | null, nowMs: number): string {
  if (lastMs === null) return "no samples";
  const s = Math.max(0, Math.round((nowMs - lastMs) / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  const d = Math.round(h / 24);
  if (d < 730) return `${d} d ago`;
  return `${Math.round(d / 365)} y ago`;
}
