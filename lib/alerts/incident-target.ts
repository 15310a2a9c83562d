import type { TAnomalyStatus, TAnomalyType, TSeverity } from "@/lib/schemas/stream";
import { selectorsMatch, severityRank, type DecisionAnomaly, type RuleSelector } from "./match";

/** What the dispatcher knows about an incident and its anomalies. */
export interface IncidentForRule {
  status: TAnomalyStatus;
  historical: boolean;
  createdAtMs: number;
  endMs: number | null;
  members: { id: string; streamId: number; metric: string; sourceName: string; group: string | null; severity: TSeverity; type: TAnomalyType; peakScore: number }[];
}

/**
 * How one rule sees an incident: through the anomalies its selectors match. The lead is the
 * worst of those (severity, then score): its stream and type describe the incident in the rule's
 * payloads, and its severity is the incident's for that rule. Resolved means the incident's one
 * status is resolved — the status the UI shows. Null when no anomaly matches. (History found by
 * an import is kept out by decideAlert, from the incident's age when written.)
 */
export function ruleTarget<M extends IncidentForRule["members"][number]>(
  rule: RuleSelector,
  inc: Omit<IncidentForRule, "members"> & { members: M[] },
): { lead: M; target: DecisionAnomaly } | null {
  let lead: M | null = null;
  for (const m of inc.members) {
    if (!selectorsMatch(rule, m)) continue;
    if (!lead || severityRank(m.severity) > severityRank(lead.severity) || (m.severity === lead.severity && m.peakScore > lead.peakScore)) lead = m;
  }
  if (!lead) return null;
  return {
    lead,
    target: {
      metric: lead.metric,
      sourceName: lead.sourceName,
      group: lead.group,
      severity: lead.severity,
      type: lead.type,
      createdAtMs: inc.createdAtMs,
      endMs: inc.endMs,
      resolved: inc.status === "resolved",
    },
  };
}
