import { z } from "zod";
import { ZAnomalyLabel, ZAnomalyStatus, ZAnomalyType, ZSeverity, type TAnomalyLabel, type TAnomalyStatus, type TAnomalyType, type TSeverity } from "@/lib/schemas/stream";
import { parseStreamFilter } from "@/lib/triage/stream-filter";
import { pool } from "../db";
import { refreshIncidents } from "./incidents-write";
import { ZMs, ZStringMap } from "./rows";
import { inTransaction } from "./transaction";

/** Incidents as stored (server/repos/incidents-write.ts keeps them); times in and out are epoch ms. */

export interface IncidentRow {
  id: number;
  sourceId: number;
  sourceName: string;
  group: string | null;
  streamIds: number[];
  startMs: number;
  endMs: number | null;
  severity: TSeverity;
  peakScore: number;
  type: TAnomalyType;
  status: TAnomalyStatus;
  resolvedBy: string | null;
  resolvedAtMs: number | null;
  label: TAnomalyLabel | null;
  anomalyCount: number;
  historical: boolean;
  createdAtMs: number;
  updatedAtMs: number;
  /** The first streams (by id), with names for the list. */
  streams: { id: number; key: string; metric: string; labels: Record<string, string> }[];
}

const ms = (col: string, as: string) => `(extract(epoch FROM ${col}) * 1000)::float8 AS ${as}`;
const STREAMS_SHOWN = 6;

const SELECT = `
  SELECT i.id, i.source_id, src.name AS source_name, i."group", i.stream_ids,
         ${ms("i.start_at", "start_ms")}, ${ms("i.end_at", "end_ms")}, i.severity::text AS severity, i.peak_score,
         i.type::text AS type, i.status::text AS status, i.resolved_by, ${ms("i.resolved_at", "resolved_ms")},
         i.label::text AS label, i.anomaly_count, i.historical, ${ms("i.created_at", "created_ms")}, ${ms("i.updated_at", "updated_ms")},
         (SELECT COALESCE(json_agg(json_build_object('id', s.id, 'key', s.key, 'metric', s.metric, 'labels', s.labels) ORDER BY s.id), '[]'::json)
            FROM (SELECT * FROM stream s WHERE s.id = ANY(i.stream_ids) ORDER BY s.id LIMIT ${STREAMS_SHOWN}) s) AS streams
  FROM incident i JOIN source src ON src.id = i.source_id`;

const ZIncidentRow = z
  .object({
    id: z.number(),
    source_id: z.number(),
    source_name: z.string(),
    group: z.string().nullable(),
    stream_ids: z.array(z.number()),
    start_ms: ZMs,
    end_ms: ZMs.nullable(),
    severity: ZSeverity,
    peak_score: z.number(),
    type: ZAnomalyType,
    status: ZAnomalyStatus,
    resolved_by: z.string().nullable(),
    resolved_ms: ZMs.nullable(),
    label: ZAnomalyLabel.nullable(),
    anomaly_count: z.number(),
    historical: z.boolean(),
    created_ms: ZMs,
    updated_ms: ZMs,
    streams: z.array(z.object({ id: z.number(), key: z.string(), metric: z.string(), labels: ZStringMap })),
  })
  .transform(
    (r): IncidentRow => ({
      id: r.id,
      sourceId: r.source_id,
      sourceName: r.source_name,
      group: r.group,
      streamIds: r.stream_ids,
      startMs: r.start_ms,
      endMs: r.end_ms,
      severity: r.severity,
      peakScore: r.peak_score,
      type: r.type,
      status: r.status,
      resolvedBy: r.resolved_by,
      resolvedAtMs: r.resolved_ms,
      label: r.label,
      anomalyCount: r.anomaly_count,
      historical: r.historical,
      createdAtMs: r.created_ms,
      updatedAtMs: r.updated_ms,
      streams: r.streams,
    }),
  );

const toRow = (r: unknown): IncidentRow => ZIncidentRow.parse(r);

export interface IncidentFilter {
  status?: TAnomalyStatus[];
  severity?: TSeverity[];
  label?: TAnomalyLabel[];
  /** Matches the source name, or a member stream's key and labels (as the overview's filter box). */
  search?: string;
  historical?: boolean;
  /** Only incidents nobody labelled yet. */
  unlabelled?: boolean;
  fromMs?: number;
  toMs?: number;
  sort?: "start" | "severity" | "score";
  dir?: "asc" | "desc";
  limit?: number;
  offset?: number;
}

function whereFor(f: IncidentFilter): { whereSql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, ...v: unknown[]) => {
    let out = sql;
    for (const x of v) {
      args.push(x);
      out = out.replace("?", `$${args.length}`);
    }
    where.push(out);
  };
  if (f.status?.length) add(`i.status::text = ANY(?::text[])`, f.status);
  if (f.severity?.length) add(`i.severity::text = ANY(?::text[])`, f.severity);
  if (f.label?.length) add(`i.label::text = ANY(?::text[])`, f.label);
  if (f.unlabelled) where.push(`i.label IS NULL`);
  if (f.historical !== undefined) where.push(f.historical ? `i.historical` : `NOT i.historical`);
  if (f.fromMs !== undefined) add(`COALESCE(i.end_at, now()) >= to_timestamp(? / 1000.0)`, f.fromMs);
  if (f.toMs !== undefined) add(`i.start_at <= to_timestamp(? / 1000.0)`, f.toMs);
  if (f.search?.trim()) {
    const parsed = parseStreamFilter(f.search);
    const conds: string[] = [];
    for (const t of parsed.text) {
      args.push(`%${t.replace(/[\\%_]/g, "\\$&")}%`);
      conds.push(`(s.key ILIKE $${args.length} OR src.name ILIKE $${args.length})`);
    }
    for (const l of parsed.labels) {
      args.push(l.name, l.value);
      conds.push(`s.labels ->> $${args.length - 1} = $${args.length}`);
    }
    if (conds.length) where.push(`EXISTS (SELECT 1 FROM stream s WHERE s.id = ANY(i.stream_ids) AND ${conds.join(" AND ")})`);
  }
  return { whereSql: where.length ? `WHERE ${where.join(" AND ")}` : "", args };
}

export async function listIncidents(f: IncidentFilter = {}): Promise<{ rows: IncidentRow[]; total: number }> {
  const { whereSql, args } = whereFor(f);
  const dir = f.dir === "asc" ? "ASC" : "DESC";
  const order =
    f.sort === "severity" ? `i.severity ${dir}, i.start_at ${dir}` : f.sort === "score" ? `i.peak_score ${dir}` : `i.start_at ${dir}`;
  const count = await pool().query<{ n: number }>(`SELECT count(*)::int AS n FROM incident i JOIN source src ON src.id = i.source_id ${whereSql}`, args);
  args.push(f.limit ?? 50, f.offset ?? 0);
  const res = await pool().query(`${SELECT} ${whereSql} ORDER BY ${order}, i.id DESC LIMIT $${args.length - 1} OFFSET $${args.length}`, args);
  return { rows: res.rows.map(toRow), total: count.rows[0]?.n ?? 0 };
}

export async function incidentIdsMatching(f: IncidentFilter, cap: number): Promise<{ ids: number[]; total: number }> {
  const { whereSql, args } = whereFor(f);
  const count = await pool().query<{ n: number }>(`SELECT count(*)::int AS n FROM incident i JOIN source src ON src.id = i.source_id ${whereSql}`, args);
  args.push(cap);
  const res = await pool().query<{ id: number }>(
    `SELECT i.id FROM incident i JOIN source src ON src.id = i.source_id ${whereSql} ORDER BY i.start_at, i.id LIMIT $${args.length}`,
    args,
  );
  return { ids: res.rows.map((r) => r.id), total: count.rows[0]?.n ?? 0 };
}

export async function getIncident(id: number): Promise<IncidentRow | null> {
  const res = await pool().query(`${SELECT} WHERE i.id = $1`, [id]);
  return res.rows[0] ? toRow(res.rows[0]) : null;
}

/** The incident of each anomaly id given (anomalies without one are left out). */
export async function memberAnomalyIds(incidentIds: number[]): Promise<string[]> {
  if (!incidentIds.length) return [];
  const res = await pool().query<{ id: string }>(`SELECT id FROM anomaly WHERE incident_id = ANY($1::int[]) ORDER BY start_at, id`, [incidentIds]);
  return res.rows.map((r) => r.id);
}

/**
 * Sets incidents' one status and their anomalies' with it. A person's resolution sticks (new
 * anomalies start a new incident); setting open or acknowledged on an incident whose anomalies
 * all ended is recomputed to resolved again, since nothing is going on.
 */
export async function setIncidentStatus(ids: number[], status: TAnomalyStatus, actor: string): Promise<{ updated: number; anomalyIds: string[] }> {
  return inTransaction(async (client) => {
    const res = await client.query(
      `UPDATE incident SET status = $2::"AnomalyStatus",
         resolved_by = CASE WHEN $2 = 'resolved' THEN $3 END,
         resolved_at = CASE WHEN $2 = 'resolved' THEN now() END, updated_at = now()
       WHERE id = ANY($1::int[])`,
      [ids, status, actor],
    );
    const members = await client.query<{ id: string }>(
      `UPDATE anomaly SET status = $2::"AnomalyStatus", updated_at = now() WHERE incident_id = ANY($1::int[]) RETURNING id`,
      [ids, status],
    );
    if (status !== "resolved") await refreshIncidents(client, ids);
    return { updated: res.rowCount ?? 0, anomalyIds: members.rows.map((r) => r.id) };
  });
}

export async function setIncidentLabel(ids: number[], label: TAnomalyLabel | null): Promise<number> {
  const res = await pool().query(`UPDATE incident SET label = $2::"AnomalyLabel", updated_at = now() WHERE id = ANY($1::int[])`, [ids, label]);
  return res.rowCount ?? 0;
}

/**
 * Open incidents detected live, by severity: what the overview's header counts, and exactly what
 * its links (`/incidents?status=open&severity=…&historical=0`) list.
 */
export async function countOpenIncidents(): Promise<Record<TSeverity, number>> {
  const res = await pool().query<{ severity: TSeverity; n: number }>(
    `SELECT severity::text AS severity, count(*)::int AS n FROM incident WHERE status = 'open' AND NOT historical GROUP BY 1`,
  );
  const out: Record<TSeverity, number> = { low: 0, medium: 0, high: 0 };
  for (const r of res.rows) out[r.severity] = r.n;
  return out;
}

export interface AttentionIncidentRow extends IncidentRow {
  types: TAnomalyType[];
  /** Per member stream: newest sample time and the spark times (for its usual step). */
  streamHealth: { lastSampleAtMs: number | null; sparkT: Buffer | null }[];
}

/** What the attention list reads besides the incident: its anomaly types and its streams' recency. */
const ZAttention = z.object({ types: z.array(ZAnomalyType), health: z.array(z.object({ last: ZMs.nullable(), spark: z.string().nullable() })) });

/**
 * Incidents that need someone now: open or acknowledged, detected live (not history found by an
 * import or backfill), not labelled a false positive; worst first, then ongoing, then newest.
 */
export async function listAttentionIncidents(limit: number): Promise<{ rows: AttentionIncidentRow[]; total: number }> {
  const where = `WHERE i.status IN ('open', 'acknowledged') AND NOT i.historical AND i.label IS DISTINCT FROM 'false_positive'`;
  const [count, res] = await Promise.all([
    pool().query<{ n: number }>(`SELECT count(*)::int AS n FROM incident i ${where}`),
    pool().query(
      `SELECT q.*,
              ARRAY(SELECT DISTINCT a.type::text FROM anomaly a WHERE a.incident_id = q.id) AS types,
              (SELECT COALESCE(json_agg(json_build_object('last', (extract(epoch FROM s.last_sample_at) * 1000)::float8, 'spark', encode(s.spark_t, 'base64'))), '[]'::json)
                 FROM stream s WHERE s.id = ANY(q.stream_ids)) AS health
       FROM (${SELECT} ${where}
             ORDER BY i.severity DESC, (i.end_at IS NULL) DESC, COALESCE(i.end_at, i.start_at) DESC, i.id DESC LIMIT $1) q
       ORDER BY q.severity::"Severity" DESC, (q.end_ms IS NULL) DESC, COALESCE(q.end_ms, q.start_ms) DESC, q.id DESC`,
      [limit],
    ),
  ]);
  return {
    total: count.rows[0]?.n ?? 0,
    rows: res.rows.map((r) => {
      const extra = ZAttention.parse(r);
      return { ...toRow(r), types: extra.types, streamHealth: extra.health.map((h) => ({ lastSampleAtMs: h.last, sparkT: h.spark ? Buffer.from(h.spark, "base64") : null })) };
    }),
  };
}
