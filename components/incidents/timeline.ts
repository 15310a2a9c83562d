/** Shapes an incident's anomalies into bars on one time axis (pure; the page draws them). */

export interface TimelineItem {
  id: string;
  startMs: number;
  endMs: number | null;
}

export interface TimelineBar {
  id: string;
  /** Offset and width as percentages of the axis. */
  leftPct: number;
  widthPct: number;
  ongoing: boolean;
}

/** Bars narrower than this still show (a one-sample point anomaly). */
const MIN_WIDTH_PCT = 0.8;

/**
 * Places each anomaly on an axis from the earliest start to the latest end (an ongoing one runs
 * to `nowMs`). A zero-length axis (one instant) spreads to a minute.
 */
export function timelineBars(items: readonly TimelineItem[], nowMs: number): { fromMs: number; toMs: number; bars: TimelineBar[] } {
  if (items.length === 0) return { fromMs: nowMs, toMs: nowMs, bars: [] };
  const end = (i: TimelineItem) => Math.max(i.startMs, i.endMs ?? nowMs);
  const fromMs = Math.min(...items.map((i) => i.startMs));
  let toMs = Math.max(...items.map(end));
  if (toMs - fromMs < 60_000) toMs = fromMs + 60_000;
  const span = toMs - fromMs;
  const bars = items.map((i) => {
    const leftPct = ((i.startMs - fromMs) / span) * 100;
    const widthPct = Math.max(MIN_WIDTH_PCT, ((end(i) - i.startMs) / span) * 100);
    return { id: i.id, leftPct: Math.min(leftPct, 100 - MIN_WIDTH_PCT), widthPct: Math.min(widthPct, 100 - Math.min(leftPct, 100 - MIN_WIDTH_PCT)), ongoing: i.endMs === null };
  });
  return { fromMs, toMs, bars };
}
