/**
 * The Prometheus naming convention for counters, one rule for every ingest path that decides a
 * kind by name (remote_write with its metadata, the CSV import without): `_total` is a counter's
 * suffix, a histogram's `_bucket` series are cumulative counts; `_count` and `_sum` are counters
 * only when their family is known to be one (remote_write metadata), since a gauge may end so too.
 */
export function isCounterName(metric: string, isCounterFamily: (family: string) => boolean = () => false): boolean {
  if (isCounterFamily(metric) || /_(total|bucket)$/.test(metric)) return true;
  const m = /^(.*)_(count|sum)$/.exec(metric);
  return m !== null && isCounterFamily(m[1]!);
}
