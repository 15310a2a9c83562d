import { buildPayload, deliveryUrl, publicBaseUrl, sampleContext } from "@/lib/alerts/payloads";
import { ZAlertRuleInput, type TAlertChannel, type TAlertRule, type TAlertRuleInput } from "@/lib/alerts/schema";
import { AppError } from "@/lib/errors/app-error";
import { deleteRule, getRule, insertRule, listDeliveries, listRules, updateRule, type DeliveryLogRow } from "../../repos/alerts-repo";
import { env } from "../../env";
import { postJson, type SendResult } from "./send";

/** Alert rules: CRUD, test sends and the delivery log (the dispatcher lives in dispatch-service). */

export function findRules(): Promise<TAlertRule[]> {
  return listRules();
}

export async function createRule(input: TAlertRuleInput): Promise<TAlertRule> {
  const rule = await insertRule(ZAlertRuleInput.parse(input));
  if (!rule) throw new AppError("CONFLICT", `An alert rule named "${input.name.trim()}" already exists.`);
  return rule;
}

export async function changeRule(id: number, input: TAlertRuleInput): Promise<TAlertRule> {
  const r = await updateRule(id, ZAlertRuleInput.parse(input));
  if (r === "missing") throw new AppError("NOT_FOUND", `Alert rule ${id} does not exist.`);
  if (r === "conflict") throw new AppError("CONFLICT", `An alert rule named "${input.name.trim()}" already exists.`);
  return r;
}

export async function removeRule(id: number): Promise<{ deleted: true }> {
  if (!(await deleteRule(id))) throw new AppError("NOT_FOUND", `Alert rule ${id} does not exist.`);
  return { deleted: true };
}

export async function setRuleEnabled(id: number, enabled: boolean): Promise<TAlertRule> {
  const rule = await getRule(id);
  if (!rule) throw new AppError("NOT_FOUND", `Alert rule ${id} does not exist.`);
  return changeRule(id, { ...rule, enabled });
}

/** Posts the sample anomaly to a channel (the form's current values, saved or not). */
export async function sendTestAlert(
  t: { name: string; channel: TAlertChannel; url: string; headers: Record<string, string> },
  opts: { nowMs?: number; baseUrl?: string } = {},
): Promise<SendResult & { url: string }> {
  const nowMs = opts.nowMs ?? Date.now();
  const url = deliveryUrl(t.channel, t.url);
  const payload = buildPayload(t.channel, sampleContext(t.name, opts.baseUrl ?? publicBaseUrl(env()), nowMs), nowMs);
  return { ...(await postJson(url, payload, t.headers)), url };
}

export function recentDeliveries(f: { ruleId?: number; limit?: number }): Promise<DeliveryLogRow[]> {
  return listDeliveries(f);
}
