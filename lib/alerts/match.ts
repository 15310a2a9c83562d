import type { TAnomalyType, TSeverity } from "@/lib/schemas/stream";
import type { TAlertEvent, TDeliveryStatus } from "./schema";

/** Pure alert-rule logic: which anomalies a rule selects, and which event (if any) is due. */

const RANK: Record<TSeverity, number> = { low: 1, medium: 2, high: 3 };

export function severityRank(s: TSeverity): number {
  return RANK[s];
}

/** What a rule selects on (a subset of TAlertRule). */
export interface RuleSelector {
  minSeverity: TSeverity;
  metric: string | null;
  sourceName: string | null;
  group: string | null;
  types: TAnomalyType[];
}

export interface MatchTarget {
  metric: string;
  sourceName: string;
  group: string | null;
  severity: TSeverity;
  type: TAnomalyType;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "i");
}

/** `*` and `?` make the selector a whole-name glob; otherwise it is a substring. Case-insensitive. */
export function metricMatches(selector: string | null, metric: string): boolean {
  if (!selector) return true;
  if (/[*?]/.test(selector)) return globToRegExp(selector).test(metric);
  return metric.toLowerCase().includes(selector.toLowerCase());
}

/** Omen's own metrics (worker batch time, memory…) page nobody unless a rule names them. */
export function isOwnMetric(metric: string): boolean {
  return /^omen_/i.test(metric);
}

function choosesOwnMetrics(rule: RuleSelector): boolean {
  return rule.metric !== null && /^omen_/i.test(rule.metric.trim());
}

/** Selectors other than severity: metric, source, group and type. */
export function selectorsMatch(rule: RuleSelector, t: MatchTarget): boolean {
  if (isOwnMetric(t.metric) && !choosesOwnMetrics(rule)) return false;
  if (!metricMatches(rule.metric, t.metric)) return false;
  if (rule.sourceName && rule.sourceName !== t.sourceName) return false;
  if (rule.group && rule.group !== t.group) return false;
  if (rule.types.length && !rule.types.includes(t.type)) return false;
  return true;
}

export function ruleMatches(rule: RuleSelector, t: MatchTarget): boolean {
  return severityRank(t.severity) >= severityRank(rule.minSeverity) && selectorsMatch(rule, t);
}

export interface PriorDelivery {
  event: TAlertEvent;
  severity: TSeverity;
  status: TDeliveryStatus;
  /** announced resolutions before it (0 until the incident first reopened) */
  cycle: number;
}

export interface DecisionRule extends RuleSelector {
  cooldownSec: number;
  notifyResolve: boolean;
  createdAtMs: number;
}

export interface DecisionAnomaly extends MatchTarget {
  createdAtMs: number;
  /** Ended (the engine closed it) or resolved by a person. */
  resolved: boolean;
  /** When the anomaly ended in the data (null/absent while open). */
  endMs?: number | null;
}

/**
 * An anomaly whose row was written more than this long after it ended was found in history
 * (a backfill or import replayed through the detectors): it is listed for triage, not announced.
 * Live anomalies are written seconds after their points; the margin covers a worker catching up.
 */
export const HISTORY_ALERT_AGE_MS = 60 * 60_000;

export interface AlertDecision {
  event: TAlertEvent;
  severity: TSeverity;
  /** The previously announced severity (escalations). */
  previousSeverity: TSeverity | null;
  /** Recorded but not sent: the rule already announced an anomaly on this stream within its cooldown. */
  suppressed: boolean;
  /** The resolve/reopen round it belongs to (see PriorDelivery.cycle). */
  cycle: number;
}

/**
 * The next event one rule owes one anomaly, given what it already recorded for it:
 * - opened: the first time the anomaly matches (also if it already ended); anomalies that
 *   existed before the rule are ignored. Suppressed within the cooldown after the rule's last
 *   announced anomaly on the same stream (`lastOpenedOnStreamMs`).
 * - escalated: the severity rose above the last announced one while still open.
 * - resolved: it ended after an announced (not suppressed) opening, if the rule asks for it.
 * - reopened: it is going on again after an announced resolution (a member anomaly re-opened,
 *   or a new one joined); it starts the next cycle, in which it can escalate and resolve again.
 * One event per call; the dispatcher calls again on its next run, so opened precedes resolved.
 */
export function decideAlert(
  rule: DecisionRule,
  a: DecisionAnomaly,
  prior: PriorDelivery[],
  lastOpenedOnStreamMs: number | null,
  nowMs: number,
): AlertDecision | null {
  const opened = prior.find((p) => p.event === "opened");
  if (!opened) {
    if (a.createdAtMs < rule.createdAtMs) return null;
    if (a.endMs !== null && a.endMs !== undefined && a.createdAtMs - a.endMs > HISTORY_ALERT_AGE_MS) return null;
    if (!ruleMatches(rule, a)) return null;
    const cooling = lastOpenedOnStreamMs !== null && nowMs - lastOpenedOnStreamMs < rule.cooldownSec * 1000;
    return { event: "opened", severity: a.severity, previousSeverity: null, suppressed: cooling, cycle: 0 };
  }
  if (opened.status === "suppressed") return null;
  if (!selectorsMatch(rule, a)) return null;
  // The current cycle: one per reopening; its resolution, once announced, closes it.
  const cycle = prior.reduce((m, p) => (p.event === "reopened" ? Math.max(m, p.cycle) : m), 0);
  const resolvedNow = prior.some((p) => p.event === "resolved" && p.cycle === cycle);
  if (a.resolved) {
    if (!rule.notifyResolve || resolvedNow) return null;
    return { event: "resolved", severity: a.severity, previousSeverity: null, suppressed: false, cycle };
  }
  if (resolvedNow) return { event: "reopened", severity: a.severity, previousSeverity: null, suppressed: false, cycle: cycle + 1 };
  const announced = prior
    .filter((p) => p.event !== "resolved" && p.cycle === cycle)
    .reduce((m, p) => (severityRank(p.severity) > severityRank(m) ? p.severity : m), cycle === 0 ? opened.severity : "low");
  if (severityRank(a.severity) > severityRank(announced)) {
    return { event: "escalated", severity: a.severity, previousSeverity: announced, suppressed: false, cycle };
  }
  return null;
}

/** Attempts per delivery before it is given up. */
export const MAX_ATTEMPTS = 5;

/** Wait before the next attempt after `attempts` failed ones: 30 s, 1 min, 2 min, 4 min; null = give up. */
export function retryDelayMs(attempts: number, baseMs = 30_000): number | null {
  if (attempts >= MAX_ATTEMPTS) return null;
  return baseMs * 2 ** Math.max(0, attempts - 1);
}
