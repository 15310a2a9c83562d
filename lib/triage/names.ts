/**
 * Human names for the things a page is about, for breadcrumbs and titles: a reader new to Omen
 * recognises "e2e-shop / queues: e2e_queue_depth (6 streams)", not "#101" or "bb77827d".
 */

/** Where a stream or incident lives: its source, then its group when it has one. */
export function placeName(sourceName: string, group: string | null): string {
  return group ? `${sourceName} / ${group}` : sourceName;
}

/** "trend anomaly on checkout_latency_ms{service="checkout"}" (+N when it spans more streams). */
export function anomalyName(a: { type: string; streamKey: string; streamCount?: number }): string {
  const more = (a.streamCount ?? 1) - 1;
  return `${a.type} anomaly on ${a.streamKey}${more > 0 ? ` +${more}` : ""}`;
}

/** Metric names shown before the rest are counted ("a, b +3 more"). */
const SHOWN_METRICS = 2;

/**
 * An incident by where it is and what moved: its one stream's key, or its metrics and how many
 * streams ("e2e-shop / queues: e2e_queue_depth, checkout_latency_ms (6 streams)").
 * `streams` may be the first few of `streamCount`: metrics beyond them are not named.
 */
export function incidentName(inc: { sourceName: string; group: string | null; streamCount: number; streams: readonly { metric: string; key: string }[] }): string {
  const where = placeName(inc.sourceName, inc.group);
  const only = inc.streams[0];
  if (inc.streamCount <= 1 && only) return `${where}: ${only.key}`;
  const metrics = [...new Set(inc.streams.map((s) => s.metric))];
  const count = `${inc.streamCount} ${inc.streamCount === 1 ? "stream" : "streams"}`;
  if (metrics.length === 0) return `${where}: ${count}`;
  const shown = metrics.slice(0, SHOWN_METRICS).join(", ");
  const rest = metrics.length - SHOWN_METRICS;
  return `${where}: ${shown}${rest > 0 ? ` +${rest} more` : ""} (${count})`;
}
