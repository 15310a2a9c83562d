/**
 * One table row per anomaly found by any side of a backtest (the worker's stored anomalies, the
 * replay under the current settings, the replay under the proposed ones). Rows of different
 * sides are the same anomaly when they are on the same stream and start at the same time.
 */
export interface BacktestRowInput {
  streamId: number;
  streamKey: string;
  startMs: number;
  endMs: number | null;
  peakScore: number;
  severity: "low" | "medium" | "high";
  truth: boolean;
}

export type BacktestSideName = "live" | "current" | "proposed";

export interface BacktestRow extends BacktestRowInput {
  key: string;
  in: Record<BacktestSideName, boolean>;
}

export function backtestRows(sides: Record<BacktestSideName, readonly BacktestRowInput[]>): BacktestRow[] {
  const rows = new Map<string, BacktestRow>();
  for (const side of ["live", "current", "proposed"] as const) {
    for (const a of sides[side]) {
      const key = `${a.streamId}@${a.startMs}`;
      let r = rows.get(key);
      if (!r) rows.set(key, (r = { ...a, key, in: { live: false, current: false, proposed: false } }));
      r.in[side] = true;
    }
  }
  return [...rows.values()].sort((a, b) => b.startMs - a.startMs || a.streamId - b.streamId);
}

/** A time with its year and seconds (backtests replay history of any year). */
export function formatInstant(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** `datetime-local` input value (local time) ↔ epoch ms. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function fromLocalInput(s: string): number | null {
  if (!s) return null;
  const t = new Date(s).getTime();
  return Number.isFinite(t) ? t : null;
}
