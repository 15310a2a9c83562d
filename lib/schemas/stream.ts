import { z } from "zod";

export const ZStreamKind = z.enum(["gauge", "counter", "event"]);
export type TStreamKind = z.infer<typeof ZStreamKind>;

export const ZLabels = z.record(z.string(), z.string());
export type TLabels = z.infer<typeof ZLabels>;

/** Canonical identity of a series: metric name plus labels sorted by name, Prometheus style. */
export function streamKey(metric: string, labels: TLabels): string {
  const names = Object.keys(labels)
    .filter((k) => k !== "__name__")
    .sort();
  if (names.length === 0) return metric;
  const body = names.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(",");
  return `${metric}{${body}}`;
}

export const ZSeverity = z.enum(["low", "medium", "high"]);
export type TSeverity = z.infer<typeof ZSeverity>;
export const ZAnomalyType = z.enum(["point", "contextual", "collective", "trend", "seasonal", "gap"]);
export type TAnomalyType = z.infer<typeof ZAnomalyType>;
export const ZAnomalyStatus = z.enum(["open", "acknowledged", "resolved"]);
export type TAnomalyStatus = z.infer<typeof ZAnomalyStatus>;
export const ZAnomalyLabel = z.enum(["true_anomaly", "false_positive", "expected"]);
export type TAnomalyLabel = z.infer<typeof ZAnomalyLabel>;
