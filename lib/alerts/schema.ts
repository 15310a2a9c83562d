import { z } from "zod";
import { ZAnomalyType, ZSeverity, type TAnomalyType, type TSeverity } from "@/lib/schemas/stream";

/** Shared DTOs of alert rules and deliveries (server validation and the rule form use the same schema). */
export const ZAlertChannel = z.enum(["webhook", "slack", "alertmanager"]);
export type TAlertChannel = z.infer<typeof ZAlertChannel>;
export const ZAlertEvent = z.enum(["opened", "escalated", "resolved", "reopened"]);
export type TAlertEvent = z.infer<typeof ZAlertEvent>;
export const ZDeliveryStatus = z.enum(["pending", "sent", "failed", "suppressed"]);
export type TDeliveryStatus = z.infer<typeof ZDeliveryStatus>;

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** Empty or whitespace-only text becomes null (optional selectors). */
const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `At most ${max} characters`)
    .nullish()
    .transform((v) => (v ? v : null));

export const ZAlertUrl = z
  .string()
  .trim()
  .min(1, "URL is required")
  .max(2000, "URL is too long")
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
    } catch {
      return false;
    }
  }, "URL must be an http:// or https:// address");

export const ZAlertHeaders = z
  .record(
    z.string().regex(HEADER_NAME, "Header names may contain letters, digits and -_. only").max(100),
    z.string().max(2000).refine((v) => !/[\r\n]/.test(v), "Header values must be one line"),
  )
  .refine((h) => Object.keys(h).length <= 20, "At most 20 headers")
  .default({});

export const ZAlertRuleInput = z.object({
  name: z.string().trim().min(1, "Name is required").max(100, "At most 100 characters"),
  enabled: z.boolean().default(true),
  minSeverity: ZSeverity.default("medium"),
  /** Glob (`*`, `?`) when it contains one, else a case-insensitive substring of the metric name. */
  metric: optionalText(200),
  sourceName: optionalText(200),
  group: optionalText(200),
  /** Empty: every type. */
  types: z.array(ZAnomalyType).max(6).default([]),
  channel: ZAlertChannel.default("webhook"),
  url: ZAlertUrl,
  headers: ZAlertHeaders,
  cooldownSec: z
    .number({ error: "Cooldown must be a number" })
    .int("Cooldown must be whole seconds")
    .min(0, "Cooldown cannot be negative")
    .max(7 * 86_400, "Cooldown is at most 7 days")
    .default(300),
  notifyResolve: z.boolean().default(true),
});
export type TAlertRuleInput = z.input<typeof ZAlertRuleInput>;
export type TAlertRuleSettings = z.output<typeof ZAlertRuleInput>;

export interface TAlertRule extends TAlertRuleSettings {
  id: number;
  createdAtMs: number;
  updatedAtMs: number;
}

/**
 * Parses "Name: value" lines (the form's header box) into a header object; blank lines are
 * skipped. Returns the line numbers it could not read.
 */
export function parseHeaderLines(text: string): { headers: Record<string, string>; badLines: number[] } {
  const headers: Record<string, string> = {};
  const badLines: number[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const at = line.indexOf(":");
    const name = at > 0 ? line.slice(0, at).trim() : "";
    if (!name || !HEADER_NAME.test(name)) {
      badLines.push(i + 1);
      return;
    }
    headers[name] = line.slice(at + 1).trim();
  });
  return { headers, badLines };
}

export function formatHeaderLines(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
}

export type { TAnomalyType, TSeverity };
