/** Shared labels and formatting for the anomaly pages (pure). */
export const SEVERITIES = ["high", "medium", "low"] as const;
export const STATUSES = ["open", "acknowledged", "resolved"] as const;
export const TYPES = ["point", "contextual", "collective", "trend", "seasonal", "gap"] as const;
export const LABELS = ["true_anomaly", "false_positive", "expected"] as const;

export const LABEL_TEXT: Record<(typeof LABELS)[number], string> = {
  true_anomaly: "True anomaly",
  false_positive: "False positive",
  expected: "Expected (maintenance/deploy)",
};

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/**
 * A start time for a narrow table column, one short line: "Dec 7, 5:47 PM" this year, "Dec 7, 2025"
 * before (an old import's minutes matter less than its date). The full time goes in a tooltip.
 */
export function formatShortTime(ms: number, nowMs: number, locale?: string): string {
  const d = new Date(ms);
  if (d.getFullYear() !== new Date(nowMs).getFullYear()) return d.toLocaleDateString(locale, { month: "short", day: "numeric", year: "numeric" });
  return d.toLocaleString(locale, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60 ? `${s % 60}s` : ""}`.trim();
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** Reads a comma-separated list from URL params, keeping only allowed values. */
export function parseList<T extends string>(raw: string | null, allowed: readonly T[]): T[] {
  if (!raw) return [];
  return raw.split(",").filter((x): x is T => (allowed as readonly string[]).includes(x));
}
