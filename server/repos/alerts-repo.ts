import { z } from "zod";
import { ZAlertChannel, ZAlertEvent, type TAlertEvent, type TAlertRule, type TAlertRuleSettings, type TDeliveryStatus } from "@/lib/alerts/schema";
import { getSetting, setSetting } from "./settings-repo";
import { ZAnomalyType, ZSeverity, type TAnomalyStatus, type TAnomalyType, type TLabels, type TSeverity } from "@/lib/schemas/stream";
import { pool } from "../db";
import { sampleAt } from "./storage/samples";
import { peakScore } from "./storage/scores";
import { ANOMALY_FIELDS, anomalyFields } from "./anomalies-repo";
import { queryRows, ZMs, ZStringMap } from "./rows";
import { inTransaction } from "./transaction";

/** Alert rules, deliveries and the dispatcher's watermark. Times in and out are epoch ms. */

const ms = (col: string, as: string) => `(extract(epoch FROM ${col}) * 1000)::float8 AS ${as}`;

const RULE_SELECT = `SELECT id, name, enabled, min_severity::text AS min_severity, metric, source_name, "group",
  COALESCE(types::text[], '{}') AS types, channel::text AS channel, url, headers, cooldown_sec, notify_resolve,
  ${ms("created_at", "created_ms")}, ${ms("updated_at", "updated_ms")} FROM alert_rule`;

const ZRuleRow = z
  .object({
    id: z.number(),
    name: z.string(),
    enabled: z.boolean(),
    min_severity: ZSeverity,
    metric: z.string().nullable(),
    source_name: z.string().nullable(),
    group: z.string().nullable(),
    types: z.array(ZAnomalyType),
    channel: ZAlertChannel,
    url: z.string(),
    headers: ZStringMap,
    cooldown_sec: z.number(),
    notify_resolve: z.boolean(),
    created_ms: ZMs,
    updated_ms: ZMs,
  })
  .transform(
    (r): TAlertRule => ({
      id: r.id,
      name: r.name,
      enabled: r.enabled,
      minSeverity: r.min_severity,
      metric: r.metric,
      sourceName: r.source_name,
      group: r.group,
      types: r.types,
      channel: r.channel,
      url: r.url,
      headers: r.headers,
      cooldownSec: r.cooldown_sec,
      notifyResolve: r.notify_resolve,
      createdAtMs: r.created_ms,
      updatedAtMs: r.updated_ms,
    }),
  );

const toRule = (r: unknown): TAlertRule => ZRuleRow.parse(r);

export async function listRules(opts: { enabledOnly?: boolean } = {}): Promise<TAlertRule[]> {
  const res = await pool().query(`${RULE_SELECT} ${opts.enabledOnly ? "WHERE enabled" : ""} ORDER BY name`);
  return res.rows.map(toRule);
}

export async function getRule(id: number): Promise<TAlertRule | null> {
  const res = await pool().query(`${RULE_SELECT} WHERE id = $1`, [id]);
  return res.rows[0] ? toRule(res.rows[0]) : null;
}

function ruleArgs(s: TAlertRuleSettings): unknown[] {
  return [s.name, s.enabled, s.minSeverity, s.metric, s.sourceName, s.group, s.types, s.channel, s.url, JSON.stringify(s.headers), s.cooldownSec, s.notifyResolve];
}

/** Inserts a rule; null when the name is taken. */
export async function insertRule(s: TAlertRuleSettings): Promise<TAlertRule | null> {
  const res = await pool().query<{ id: number }>(
    `INSERT INTO alert_rule (name, enabled, min_severity, metric, source_name, "group", types, channel, url, headers, cooldown_sec, notify_resolve, updated_at)
     VALUES ($1, $2, $3::"Severity", $4, $5, $6, $7::text[]::"AnomalyType"[], $8::"AlertChannel", $9, $10::jsonb, $11, $12, now())
     ON CONFLICT (name) DO NOTHING RETURNING id`,
    ruleArgs(s),
  );
  return res.rows[0] ? getRule(res.rows[0].id) : null;
}

/** Updates a rule; "missing" / "conflict" (name taken by another rule) otherwise. */
export async function updateRule(id: number, s: TAlertRuleSettings): Promise<TAlertRule | "missing" | "conflict"> {
  const taken = await pool().query(`SELECT 1 FROM alert_rule WHERE name = $1 AND id <> $2`, [s.name, id]);
  if (taken.rowCount) return "conflict";
  const res = await pool().query(
    `UPDATE alert_rule SET name = $2, enabled = $3, min_severity = $4::"Severity", metric = $5, source_name = $6, "group" = $7,
       types = $8::text[]::"AnomalyType"[], channel = $9::"AlertChannel", url = $10, headers = $11::jsonb, cooldown_sec = $12,
       notify_resolve = $13, updated_at = now()
     WHERE id = $1`,
    [id, ...ruleArgs(s)],
  );
  if (!res.rowCount) return "missing";
  return (await getRule(id))!;
}

export async function deleteRule(id: number): Promise<boolean> {
  const res = await pool().query(`DELETE FROM alert_rule WHERE id = $1`, [id]);
  return (res.rowCount ?? 0) > 0;
}

/** An anomaly as the dispatcher sees it: with its stream's metric, labels, source and group. */
export interface AlertAnomaly {
  id: string;
  streamId: number;
  streamKey: string;
  metric: string;
  labels: TLabels;
  sourceName: string;
  group: string | null;
  startMs: number;
  endMs: number | null;
  peakScore: number;
  severity: TSeverity;
  type: TAnomalyType;
  status: TAnomalyStatus;
  summary: string;
  createdAtMs: number;
  updatedAtMs: number;
  /** Stream kind and unit, for the metric's value domain. */
  streamKind: string;
  unit: string | null;
}

const ANOMALY_SELECT = `SELECT a.id, a.stream_id, s.key AS stream_key, s.metric, s.labels, src.name AS source_name, s."group",
    s.kind::text AS stream_kind, s.unit,
    ${ms("a.start_at", "start_ms")}, ${ms("a.end_at", "end_ms")}, a.peak_score, a.severity::text AS severity, a.type::text AS type,
    a.status::text AS status, COALESCE(a.explanation->>'summary', '') AS summary,
    ${ms("a.created_at", "created_ms")}, ${ms("a.updated_at", "updated_ms")}
  FROM anomaly a JOIN stream s ON s.id = a.stream_id JOIN source src ON src.id = s.source_id`;

const ZAlertAnomalyRow = z
  .object({
    ...ANOMALY_FIELDS,
    metric: z.string(),
    labels: ZStringMap,
    source_name: z.string(),
    group: z.string().nullable(),
    summary: z.string(),
    stream_kind: z.string(),
    unit: z.string().nullable(),
  })
  .transform(
    (r): AlertAnomaly => ({
      ...anomalyFields(r),
      metric: r.metric,
      labels: r.labels,
      sourceName: r.source_name,
      group: r.group,
      summary: r.summary,
      streamKind: r.stream_kind,
      unit: r.unit,
    }),
  );

const toAnomaly = (r: unknown): AlertAnomaly => ZAlertAnomalyRow.parse(r);

/** An incident as the dispatcher sees it, with its anomalies (the rule selectors apply to them). */
export interface AlertIncident {
  id: number;
  sourceName: string;
  group: string | null;
  startMs: number;
  endMs: number | null;
  severity: TSeverity;
  type: TAnomalyType;
  status: TAnomalyStatus;
  historical: boolean;
  createdAtMs: number;
  updatedAtMs: number;
  streamIds: number[];
  anomalyCount: number;
  members: { id: string; streamId: number; metric: string; sourceName: string; group: string | null; severity: TSeverity; type: TAnomalyType; peakScore: number }[];
}

/** Incidents changed at or after `sinceMs` (oldest change first) with their anomalies, plus the database clock. */
export async function incidentsChangedSince(sinceMs: number, limit: number): Promise<{ rows: AlertIncident[]; dbNowMs: number }> {
  const client = await pool().connect();
  try {
    const now = await client.query<{ now_ms: number }>(`SELECT ${ms("now()", "now_ms")}`);
    const res = await client.query(
      `SELECT i.id, src.name AS source_name, i."group", ${ms("i.start_at", "start_ms")}, ${ms("i.end_at", "end_ms")},
              i.severity::text AS severity, i.type::text AS type, i.status::text AS status, i.historical, i.stream_ids, i.anomaly_count,
              ${ms("i.created_at", "created_ms")}, ${ms("i.updated_at", "updated_ms")},
              (SELECT COALESCE(json_agg(json_build_object('id', a.id, 'streamId', a.stream_id, 'metric', s.metric, 'sourceName', asrc.name,
                        'group', s."group", 'severity', a.severity, 'type', a.type, 'peakScore', a.peak_score) ORDER BY a.start_at, a.id), '[]'::json)
                 FROM anomaly a JOIN stream s ON s.id = a.stream_id JOIN source asrc ON asrc.id = s.source_id WHERE a.incident_id = i.id) AS members
       FROM incident i JOIN source src ON src.id = i.source_id
       WHERE i.updated_at >= to_timestamp($1 / 1000.0) ORDER BY i.updated_at LIMIT $2`,
      [sinceMs, limit],
    );
    return {
      rows: res.rows.map((r) => ({
        id: r.id,
        sourceName: r.source_name,
        group: r.group ?? null,
        startMs: r.start_ms,
        endMs: r.end_ms ?? null,
        severity: r.severity,
        type: r.type,
        status: r.status,
        historical: r.historical === true,
        createdAtMs: r.created_ms,
        updatedAtMs: r.updated_ms,
        streamIds: r.stream_ids,
        anomalyCount: r.anomaly_count,
        members: r.members,
      })),
      dbNowMs: now.rows[0]!.now_ms,
    };
  } finally {
    client.release();
  }
}

/** What a payload says about the incident: its one status and size, and a few of its streams by name. */
export async function getIncidentSummary(id: number): Promise<{ id: number; status: TAnomalyStatus; severity: TSeverity; type: TAnomalyType; startMs: number; endMs: number | null; anomalyCount: number; streamCount: number; streams: string[] } | null> {
  const res = await pool().query(
    `SELECT i.id, i.status::text AS status, i.severity::text AS severity, i.type::text AS type, ${ms("i.start_at", "start_ms")}, ${ms("i.end_at", "end_ms")},
            i.anomaly_count, cardinality(i.stream_ids) AS stream_count,
            ARRAY(SELECT s.key FROM stream s WHERE s.id = ANY(i.stream_ids) ORDER BY s.id LIMIT 6) AS streams
     FROM incident i WHERE i.id = $1`,
    [id],
  );
  const r = res.rows[0];
  if (!r) return null;
  return { id: r.id, status: r.status, severity: r.severity, type: r.type, startMs: r.start_ms, endMs: r.end_ms ?? null, anomalyCount: r.anomaly_count, streamCount: r.stream_count ?? 0, streams: r.streams };
}

export async function getAlertAnomaly(id: string): Promise<AlertAnomaly | null> {
  const res = await pool().query(`${ANOMALY_SELECT} WHERE a.id = $1`, [id]);
  return res.rows[0] ? toAnomaly(res.rows[0]) : null;
}

/** Expected and actual value at the anomaly's highest score (null when not scored with a forecast). */
export async function expectedVsActual(streamId: number, startMs: number, endMs: number | null): Promise<{ expected: number | null; actual: number | null }> {
  const peak = await peakScore(streamId, startMs, endMs);
  if (peak === null) return { expected: null, actual: null };
  return { expected: peak.expected, actual: await sampleAt(streamId, peak.t) };
}

export interface PriorDeliveryRow {
  ruleId: number;
  incidentId: number;
  event: TAlertEvent;
  severity: TSeverity;
  status: TDeliveryStatus;
  cycle: number;
}

export async function deliveriesForIncidents(incidentIds: number[]): Promise<PriorDeliveryRow[]> {
  if (!incidentIds.length) return [];
  const res = await pool().query(
    `SELECT rule_id, incident_id, event::text AS event, severity::text AS severity, status::text AS status, cycle
     FROM alert_delivery WHERE incident_id = ANY($1::int[])`,
    [incidentIds],
  );
  return res.rows.map((r) => ({ ruleId: r.rule_id, incidentId: r.incident_id, event: r.event, severity: r.severity, status: r.status, cycle: r.cycle }));
}

/** Latest announced (not suppressed) opening per rule and stream, keyed `rule:stream`. */
export async function lastOpenedByRuleStream(ruleIds: number[], streamIds: number[]): Promise<Map<string, number>> {
  if (!ruleIds.length || !streamIds.length) return new Map();
  const res = await pool().query<{ rule_id: number; stream_id: number; last_ms: number }>(
    `SELECT rule_id, stream_id, ${ms("max(created_at)", "last_ms")} FROM alert_delivery
     WHERE event = 'opened' AND status <> 'suppressed' AND rule_id = ANY($1::int[]) AND stream_id = ANY($2::int[])
     GROUP BY rule_id, stream_id`,
    [ruleIds, streamIds],
  );
  return new Map(res.rows.map((r) => [`${r.rule_id}:${r.stream_id}`, r.last_ms]));
}

export interface NewDelivery {
  ruleId: number;
  incidentId: number;
  /** The incident's anomaly this rule's payloads describe (used by the first delivery; later ones repeat the first's). */
  anomalyId: string;
  streamId: number;
  type: TAnomalyType;
  event: TAlertEvent;
  severity: TSeverity;
  previousSeverity: TSeverity | null;
  suppressed: boolean;
  /** resolve/reopen round (0 until the incident first reopens) */
  cycle: number;
}

/**
 * Queues a delivery once per (rule, incident, event, cycle), numbered next in the (rule, incident)
 * series. A repeated escalation to a higher severity re-queues the existing escalation row with
 * the next number, so the receiver can tell it is newer than the first. The anomaly and type
 * announced are those of the rule's first delivery for the incident (a receiver never sees the
 * type change), and the incident's own type is frozen from then on. A "resolved" is written only
 * while the incident is resolved, under a lock on its row, so it cannot cross a new anomaly
 * reopening it; a "reopened" only while it is not. Returns true when a row was written.
 */
export async function enqueueDelivery(d: NewDelivery, nowMs: number): Promise<boolean> {
  return inTransaction(async (client) => {
    // the incident's row lock also serialises the (rule, incident) sequence numbers
    const inc = await client.query<{ status: string }>(`SELECT status::text AS status FROM incident WHERE id = $1 FOR NO KEY UPDATE`, [d.incidentId]);
    if (!inc.rows[0]) return false;
    if (d.event === "resolved" && inc.rows[0].status !== "resolved") return false;
    if (d.event === "reopened" && inc.rows[0].status === "resolved") return false;
    const res = await client.query(
      `WITH first AS (SELECT anomaly_id, type, stream_id FROM alert_delivery WHERE rule_id = $1 AND incident_id = $2 AND event = 'opened'),
            next AS (SELECT COALESCE(max(sequence), 0) + 1 AS n FROM alert_delivery WHERE rule_id = $1 AND incident_id = $2)
       INSERT INTO alert_delivery (rule_id, incident_id, anomaly_id, stream_id, type, event, severity, previous_severity, status, next_attempt_at, created_at, cycle, sequence)
       VALUES ($1, $2, COALESCE((SELECT anomaly_id FROM first), $3), COALESCE((SELECT stream_id FROM first), $4),
               COALESCE((SELECT type FROM first), $5::"AnomalyType"), $6::"AlertEventKind", $7::"Severity", $8::"Severity", $9::"AlertDeliveryStatus",
               CASE WHEN $10::boolean THEN NULL ELSE to_timestamp($11 / 1000.0) END, to_timestamp($11 / 1000.0), $12, (SELECT n FROM next))
       ON CONFLICT (rule_id, incident_id, event, cycle) DO UPDATE SET severity = EXCLUDED.severity, sequence = EXCLUDED.sequence,
         previous_severity = EXCLUDED.previous_severity, status = 'pending', attempts = 0,
         http_status = NULL, error = NULL, sent_at = NULL, next_attempt_at = EXCLUDED.created_at, created_at = EXCLUDED.created_at
       WHERE alert_delivery.event = 'escalated' AND alert_delivery.severity < EXCLUDED.severity`,
      [d.ruleId, d.incidentId, d.anomalyId, d.streamId, d.type, d.event, d.severity, d.previousSeverity, d.suppressed ? "suppressed" : "pending", d.suppressed, nowMs, d.cycle],
    );
    const wrote = (res.rowCount ?? 0) > 0;
    if (wrote && !d.suppressed) await client.query(`UPDATE incident SET type_frozen = true WHERE id = $1 AND NOT type_frozen`, [d.incidentId]);
    return wrote;
  });
}

export interface DueDelivery {
  id: number;
  ruleId: number;
  incidentId: number;
  anomalyId: string;
  /** The anomaly type announced (frozen at the rule's first delivery for the incident). */
  type: TAnomalyType;
  event: TAlertEvent;
  severity: TSeverity;
  previousSeverity: TSeverity | null;
  attempts: number;
  /** 1, 2, 3… per rule and incident in the order the states were queued: receivers can drop anything older than what they hold. */
  sequence: number;
}

/**
 * Claims up to `limit` deliveries due at `nowMs` (pending, or failed with a retry time) by
 * pushing their next attempt `leaseMs` ahead, so a crashed sender's claims come back later and
 * two dispatchers never send the same row at once.
 */
export async function claimDueDeliveries(nowMs: number, limit: number, leaseMs = 60_000): Promise<DueDelivery[]> {
  const rows = await queryRows(
    pool(),
    z.object({
      id: z.number(),
      rule_id: z.number(),
      incident_id: z.number(),
      anomaly_id: z.string(),
      type: ZAnomalyType,
      event: ZAlertEvent,
      severity: ZSeverity,
      previous_severity: ZSeverity.nullable(),
      attempts: z.number(),
      sequence: z.number(),
    }),
    `UPDATE alert_delivery d SET next_attempt_at = to_timestamp(($1 + $3) / 1000.0)
     WHERE d.id IN (SELECT id FROM alert_delivery x WHERE status IN ('pending', 'failed') AND next_attempt_at <= to_timestamp($1 / 1000.0)
                      -- In order per rule and incident: nothing goes while an earlier state still waits for a retry,
                      -- so a receiver that recovers never gets "opened" after "resolved".
                      AND NOT EXISTS (SELECT 1 FROM alert_delivery e WHERE e.rule_id = x.rule_id AND e.incident_id = x.incident_id AND e.sequence < x.sequence
                                        AND e.status IN ('pending', 'failed') AND e.next_attempt_at IS NOT NULL)
                    ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING d.id, d.rule_id, d.incident_id, d.anomaly_id, d.type::text AS type, d.event::text AS event, d.severity::text AS severity,
       d.previous_severity::text AS previous_severity, d.attempts, d.sequence`,
    [nowMs, limit, leaseMs],
  );
  return rows
    .map((r) => ({
      id: r.id,
      ruleId: r.rule_id,
      incidentId: r.incident_id,
      anomalyId: r.anomaly_id,
      type: r.type,
      event: r.event,
      severity: r.severity,
      previousSeverity: r.previous_severity,
      attempts: r.attempts,
      sequence: r.sequence,
    }))
    .sort((a, b) => a.id - b.id);
}

/** Records one attempt: sent, or failed with the next retry time (null = given up). */
export async function recordAttempt(
  id: number,
  r: { ok: boolean; httpStatus: number | null; error: string | null; nextAttemptMs: number | null },
  nowMs: number,
): Promise<void> {
  await pool().query(
    `UPDATE alert_delivery SET attempts = attempts + 1, status = $2::"AlertDeliveryStatus", http_status = $3, error = $4,
       next_attempt_at = CASE WHEN $5::float8 IS NULL THEN NULL ELSE to_timestamp($5 / 1000.0) END,
       sent_at = CASE WHEN $7::boolean THEN to_timestamp($6 / 1000.0) ELSE sent_at END
     WHERE id = $1`,
    [id, r.ok ? "sent" : "failed", r.httpStatus, r.error?.slice(0, 1000) ?? null, r.ok ? null : r.nextAttemptMs, nowMs, r.ok],
  );
}

export interface DeliveryLogRow {
  id: number;
  ruleId: number;
  ruleName: string;
  incidentId: number;
  anomalyId: string;
  streamKey: string;
  event: TAlertEvent;
  severity: TSeverity;
  status: TDeliveryStatus;
  attempts: number;
  httpStatus: number | null;
  error: string | null;
  nextAttemptAtMs: number | null;
  createdAtMs: number;
  sentAtMs: number | null;
}

export async function listDeliveries(f: { ruleId?: number; incidentId?: number; limit?: number } = {}): Promise<DeliveryLogRow[]> {
  const res = await pool().query(
    `SELECT d.id, d.rule_id, r.name AS rule_name, d.incident_id, d.anomaly_id, s.key AS stream_key, d.event::text AS event,
            d.severity::text AS severity, d.status::text AS status, d.attempts, d.http_status, d.error,
            ${ms("d.next_attempt_at", "next_ms")}, ${ms("d.created_at", "created_ms")}, ${ms("d.sent_at", "sent_ms")}
     FROM alert_delivery d JOIN alert_rule r ON r.id = d.rule_id JOIN stream s ON s.id = d.stream_id
     WHERE ($1::int IS NULL OR d.rule_id = $1) AND ($3::int IS NULL OR d.incident_id = $3) ORDER BY d.created_at DESC, d.id DESC LIMIT $2`,
    [f.ruleId ?? null, f.limit ?? 100, f.incidentId ?? null],
  );
  return res.rows.map((r) => ({
    id: r.id,
    ruleId: r.rule_id,
    ruleName: r.rule_name,
    incidentId: r.incident_id,
    anomalyId: r.anomaly_id,
    streamKey: r.stream_key,
    event: r.event,
    severity: r.severity,
    status: r.status,
    attempts: r.attempts,
    httpStatus: r.http_status ?? null,
    error: r.error ?? null,
    nextAttemptAtMs: r.next_ms ?? null,
    createdAtMs: r.created_ms,
    sentAtMs: r.sent_ms ?? null,
  }));
}

const WATERMARK_KEY = "alerts.dispatch.watermark";

/** Database time up to which anomaly changes have been examined (null before the first run). */
export async function readWatermark(): Promise<number | null> {
  const raw = await getSetting(WATERMARK_KEY);
  const v = Number(raw);
  return raw !== null && Number.isFinite(v) ? v : null;
}

export async function writeWatermark(valueMs: number): Promise<void> {
  await setSetting(WATERMARK_KEY, String(valueMs));
}

/** Puts a delivery that gave up back in the queue, due now (one more attempt). False when it had not given up. */
export async function requeueGivenUp(id: number, nowMs: number): Promise<boolean> {
  const res = await pool().query(
    `UPDATE alert_delivery SET next_attempt_at = to_timestamp($2 / 1000.0) WHERE id = $1 AND status = 'failed' AND next_attempt_at IS NULL`,
    [id, nowMs],
  );
  return (res.rowCount ?? 0) > 0;
}
