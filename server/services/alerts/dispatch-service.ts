import { decideAlert, retryDelayMs, type PriorDelivery } from "@/lib/alerts/match";
import { ruleTarget } from "@/lib/alerts/incident-target";
import { buildPayload, deliveryUrl, publicBaseUrl } from "@/lib/alerts/payloads";
import type { TAlertRule } from "@/lib/alerts/schema";
import {
  claimDueDeliveries,
  deliveriesForIncidents,
  enqueueDelivery,
  getAlertAnomaly,
  getIncidentSummary,
  getRule,
  incidentsChangedSince,
  lastOpenedByRuleStream,
  listRules,
  readWatermark,
  recordAttempt,
  writeWatermark,
  type DueDelivery,
} from "../../repos/alerts-repo";
import { env } from "../../env";
import { buildAlertContext } from "./alert-context";
import { postJson, SEND_TIMEOUT_MS } from "./send";

/** Re-examine this much before the watermark: a transaction may commit after a later one started. */
const OVERLAP_MS = 30_000;
/** How far back the very first run looks. */
const FIRST_LOOKBACK_MS = 3_600_000;
const SCAN_LIMIT = 5_000;
const SEND_BATCH = 20;
const SEND_CONCURRENCY = 4;
/** A round stops claiming new deliveries after this long (the rest go out on the next round). */
const ROUND_BUDGET_MS = 20_000;

export interface DispatchOptions {
  nowMs?: number;
  baseUrl?: string;
  timeoutMs?: number;
  log?: (msg: string) => void;
}

export interface DispatchStats {
  examined: number;
  enqueued: number;
  suppressed: number;
  sent: number;
  failed: number;
}

/**
 * One dispatcher round: finds incidents that opened, escalated or resolved since the last round,
 * queues one delivery per (rule, incident, event) for matching enabled rules (idempotent; cooldown
 * per rule and stream), then sends what is due with a timeout and records the outcome. A rule
 * matches an incident through its anomalies (metric, source, group, type); the severity it
 * announces is the highest among those. "Resolved" follows the incident's one status, the same
 * the UI shows. Failed sends are retried with exponential backoff up to MAX_ATTEMPTS. Receiver
 * errors are recorded, never thrown.
 */
export async function dispatchAlerts(opts: DispatchOptions = {}): Promise<DispatchStats> {
  const nowMs = opts.nowMs ?? Date.now();
  const stats: DispatchStats = { examined: 0, enqueued: 0, suppressed: 0, sent: 0, failed: 0 };
  await enqueueChanges(nowMs, stats);
  await sendDue(nowMs, opts, stats);
  return stats;
}

async function enqueueChanges(nowMs: number, stats: DispatchStats): Promise<void> {
  const rules = await listRules({ enabledOnly: true });
  const watermark = await readWatermark();
  const since = (watermark ?? nowMs - FIRST_LOOKBACK_MS) - OVERLAP_MS;
  const { rows, dbNowMs } = await incidentsChangedSince(since, SCAN_LIMIT);
  stats.examined = rows.length;
  if (rules.length && rows.length) {
    const prior = new Map<string, PriorDelivery[]>();
    for (const p of await deliveriesForIncidents(rows.map((r) => r.id))) {
      const k = `${p.ruleId}:${p.incidentId}`;
      prior.set(k, [...(prior.get(k) ?? []), p]);
    }
    const lastOpened = await lastOpenedByRuleStream(
      rules.map((r) => r.id),
      [...new Set(rows.flatMap((r) => r.members.map((m) => m.streamId)))],
    );
    for (const inc of rows) {
      for (const rule of rules) {
        const t = ruleTarget(rule, inc);
        if (!t) continue;
        const key = `${rule.id}:${t.lead.streamId}`;
        const d = decideAlert(rule, t.target, prior.get(`${rule.id}:${inc.id}`) ?? [], lastOpened.get(key) ?? null, nowMs);
        if (!d) continue;
        const wrote = await enqueueDelivery(
          {
            ruleId: rule.id,
            incidentId: inc.id,
            anomalyId: t.lead.id,
            streamId: t.lead.streamId,
            type: t.lead.type,
            event: d.event,
            severity: d.severity,
            previousSeverity: d.previousSeverity,
            suppressed: d.suppressed,
            cycle: d.cycle,
          },
          nowMs,
        );
        if (!wrote) continue;
        if (d.suppressed) stats.suppressed++;
        else stats.enqueued++;
        if (d.event === "opened" && !d.suppressed) lastOpened.set(key, nowMs);
      }
    }
  }
  // A full page means more changes are waiting: continue from the last one seen next round.
  // (If a full page would not advance the watermark, skip to now rather than re-read it forever.)
  let next = dbNowMs;
  if (rows.length === SCAN_LIMIT) {
    const after = rows[rows.length - 1]!.updatedAtMs + OVERLAP_MS;
    if (after > (watermark ?? Number.NEGATIVE_INFINITY)) next = after;
  }
  await writeWatermark(Math.max(next, watermark ?? 0));
}

async function sendDue(nowMs: number, opts: DispatchOptions, stats: DispatchStats): Promise<void> {
  const baseUrl = opts.baseUrl ?? publicBaseUrl(env());
  const rules = new Map<number, TAlertRule | null>();
  const t0 = Date.now();
  while (Date.now() - t0 < ROUND_BUDGET_MS) {
    const due = await claimDueDeliveries(nowMs, SEND_BATCH);
    if (!due.length) break;
    for (let i = 0; i < due.length; i += SEND_CONCURRENCY) {
      await Promise.all(due.slice(i, i + SEND_CONCURRENCY).map((d) => sendOne(d, rules, baseUrl, nowMs, opts, stats)));
    }
    if (due.length < SEND_BATCH) break;
  }
}

async function sendOne(
  d: DueDelivery,
  rules: Map<number, TAlertRule | null>,
  baseUrl: string,
  nowMs: number,
  opts: DispatchOptions,
  stats: DispatchStats,
): Promise<void> {
  try {
    if (!rules.has(d.ruleId)) rules.set(d.ruleId, await getRule(d.ruleId));
    const rule = rules.get(d.ruleId);
    const [anomaly, incident] = await Promise.all([getAlertAnomaly(d.anomalyId), getIncidentSummary(d.incidentId)]);
    if (!rule || !anomaly || !incident) {
      await recordAttempt(d.id, { ok: false, httpStatus: null, error: "rule or incident no longer exists", nextAttemptMs: null }, nowMs);
      stats.failed++;
      return;
    }
    const ctx = {
      ...(await buildAlertContext(
        anomaly,
        { event: d.event, severity: d.severity, previousSeverity: d.previousSeverity, type: d.type, rule: { id: rule.id, name: rule.name } },
        incident,
        baseUrl,
      )),
      sequence: d.sequence,
    };
    const res = await postJson(deliveryUrl(rule.channel, rule.url), buildPayload(rule.channel, ctx, nowMs), rule.headers, opts.timeoutMs ?? SEND_TIMEOUT_MS);
    const delay = res.ok ? null : retryDelayMs(d.attempts + 1);
    await recordAttempt(d.id, { ok: res.ok, httpStatus: res.httpStatus, error: res.error, nextAttemptMs: delay === null ? null : nowMs + delay }, nowMs);
    if (res.ok) stats.sent++;
    else {
      stats.failed++;
      opts.log?.(`alert delivery #${d.id} (${rule.name}, ${d.event}) failed: ${res.error}${delay === null ? " — giving up" : ""}`);
    }
  } catch (e) {
    // Our own failure (database, payload): record it and retry like a receiver error.
    const delay = retryDelayMs(d.attempts + 1);
    await recordAttempt(d.id, { ok: false, httpStatus: null, error: `internal: ${(e as Error).message}`, nextAttemptMs: delay === null ? null : nowMs + delay }, nowMs).catch(() => undefined);
    stats.failed++;
    opts.log?.(`alert delivery #${d.id} failed internally: ${(e as Error).message}`);
  }
}

