import { formatHeaderLines, parseHeaderLines, ZAlertRuleInput, type TAlertChannel, type TAlertRule, type TAlertRuleSettings } from "@/lib/alerts/schema";
import type { TAnomalyType, TSeverity } from "@/lib/schemas/stream";

/** The rule form's raw field values (all text as typed) and their conversion (pure). */
export interface RuleFormState {
  name: string;
  enabled: boolean;
  minSeverity: TSeverity;
  metric: string;
  sourceName: string;
  group: string;
  types: TAnomalyType[];
  channel: TAlertChannel;
  url: string;
  headers: string;
  cooldownSec: string;
  notifyResolve: boolean;
}

export const CHANNEL_TEXT: Record<TAlertChannel, string> = {
  webhook: "Webhook (generic JSON)",
  slack: "Slack incoming webhook",
  alertmanager: "Alertmanager (/api/v2/alerts)",
};

export const EMPTY_FORM: RuleFormState = {
  name: "",
  enabled: true,
  minSeverity: "medium",
  metric: "",
  sourceName: "",
  group: "",
  types: [],
  channel: "webhook",
  url: "",
  headers: "",
  cooldownSec: "300",
  notifyResolve: true,
};

export function formFromRule(r: TAlertRule): RuleFormState {
  return {
    name: r.name,
    enabled: r.enabled,
    minSeverity: r.minSeverity,
    metric: r.metric ?? "",
    sourceName: r.sourceName ?? "",
    group: r.group ?? "",
    types: r.types,
    channel: r.channel,
    url: r.url,
    headers: formatHeaderLines(r.headers),
    cooldownSec: String(r.cooldownSec),
    notifyResolve: r.notifyResolve,
  };
}

export type FieldErrors = Partial<Record<keyof RuleFormState, string>>;

/** Validates the form with the server's schema; returns the rule settings or one message per field. */
export function parseRuleForm(f: RuleFormState): { ok: true; value: TAlertRuleSettings } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const { headers, badLines } = parseHeaderLines(f.headers);
  if (badLines.length) errors.headers = `Line ${badLines.join(", ")}: write headers as "Name: value"`;
  const cooldown = f.cooldownSec.trim() === "" ? Number.NaN : Number(f.cooldownSec);
  const res = ZAlertRuleInput.safeParse({ ...f, headers, cooldownSec: cooldown });
  if (!res.success) {
    for (const issue of res.error.issues) {
      const key = String(issue.path[0] ?? "name") as keyof RuleFormState;
      errors[key] ??= key === "cooldownSec" && Number.isNaN(cooldown) ? "Cooldown must be a number of seconds" : issue.message;
    }
  }
  if (Object.keys(errors).length || !res.success) return { ok: false, errors };
  return { ok: true, value: res.data };
}

/** "≥ medium · metric api_* · source shop · point, trend" */
export function describeSelectors(r: Pick<TAlertRule, "minSeverity" | "metric" | "sourceName" | "group" | "types">): string {
  const parts = [`≥ ${r.minSeverity}`];
  if (r.metric) parts.push(`metric ${r.metric}`);
  if (r.sourceName) parts.push(`source ${r.sourceName}`);
  if (r.group) parts.push(`group ${r.group}`);
  parts.push(r.types.length ? r.types.join(", ") : "all types");
  return parts.join(" · ");
}

/** Host and path of a receiver URL without credentials or query (tokens often live there). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    // Slack-style URLs carry their secret in the path: show the first segment only.
    const segs = u.pathname.split("/").filter(Boolean);
    return `${u.host}${segs.length ? `/${segs[0]}` : ""}${segs.length > 1 ? "/…" : ""}`;
  } catch {
    return url;
  }
}
