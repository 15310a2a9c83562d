/**
 * A metric's value domain, for clipping expected bands: counts, sizes, durations, ratios and load
 * averages cannot go below zero, so a band that does (e.g. "[-3.00e+6, 4.71e+6]" for bytes) is
 * drawn and announced from 0.
 */
export interface MetricIdentity {
  metric: string;
  kind?: string | null;
  unit?: string | null;
}

const NON_NEGATIVE_UNITS = /^(b|bytes?|kib|mib|gib|kb|mb|gb|%|percent|ratio|s|sec|seconds?|ms|us|µs|ns|min|h|hz|1\/s|count|req\/s|rps|ops\/s)$/i;
const NON_NEGATIVE_NAMES =
  /(_total|_count|_sum|_bucket|_bytes|_seconds|_ms|_us|_percent|_ratio|_size|_depth|_length|_per_second|_rps|_qps|_errors?|_requests?|_connections?|_processes(_\w+)?|_threads|_load\d*|^node_load\d+|load\d+$|_latency\w*|_duration\w*|_usage\w*|_utili[sz]ation\w*|_available\w*|_free\w*|_used\w*)$/i;

export function isNonNegativeMetric(m: MetricIdentity): boolean {
  if (m.kind === "counter" || m.kind === "event") return true;
  if (m.unit && NON_NEGATIVE_UNITS.test(m.unit.trim())) return true;
  return NON_NEGATIVE_NAMES.test(m.metric);
}

/** Lower bound of the metric's domain: 0 for non-negative metrics, else -Infinity. */
export function domainFloor(m: MetricIdentity): number {
  return isNonNegativeMetric(m) ? 0 : -Infinity;
}

/** Clips a band value to the domain floor (null stays null). */
export function clipToDomain(v: number | null, floor: number): number | null {
  return v === null ? null : Math.max(v, floor);
}
