import { z } from "zod";
import { ZAnomalyLabel, ZAnomalyStatus, ZAnomalyType, ZSeverity, type TAnomalyLabel, type TAnomalyStatus, type TAnomalyType, type TSeverity } from "@/lib/schemas/stream";
import { ZIncidentLink, type TIncidentLink } from "@/lib/schemas/incident-link";
import { HISTORICAL_LAG_MS } from "@/lib/triage/freshness";
import { pool } from "../db";
import { assignAndRefresh, refreshIncidents } from "./incidents-write";
import { ZJsonObject, ZMs } from "./rows";
import { inTransaction } from "./transaction";

/** SQL twin of lib/triage/freshness isHistorical (anomaly alias `a`). */
const HISTORICAL_SQL = `(a.created_at - COALESCE(a.end_at, a.start_at) > interval '${HISTORICAL_LAG_MS / 1000} seconds')`;

export interface AnomalyUpsert {
  engineId: string;
  streamId: number;
  streamIds: number[];
  startMs: number;
  endMs: number | null;
  peakScore: number;
  severity: TSeverity;
  type: TAnomalyType;
  explanation: Record<string, unknown>;
}

export interface AnomalyRow {
  id: string;
  engineId: string;
  streamId: number;
  streamKey: string;
  streamIds: number[];
  /** The incident it belongs to (null only for rows written outside the repository). */
  incidentId: number | null;
  /** The dependency-graph edge it joined its incident through; null: same source and group, or a shared stream. */
  incidentLink: TIncidentLink | null;
  startMs: number;
  endMs: number | null;
  peakScore: number;
  severity: TSeverity;
  type: TAnomalyType;
  status: TAnomalyStatus;
  label: TAnomalyLabel | null;
  explanation: Record<string, unknown>;
  createdAtMs: number;
  updatedAtMs: number;
  /** Found in imported or backfilled history: shown, never counted as open. */
  historical: boolean;
}

/**
 * Opens or extends anomalies from engine events; a human-set status/label is never overwritten.
 * In the same transaction each new anomaly joins (or starts) its incident and the touched
 * incidents are recomputed (server/repos/incidents-write.ts): a replayed event updates its row
 * and keeps its incident.
 */
export async function upsertAnomalies(rows: AnomalyUpsert[]): Promise<void> {
  if (rows.length === 0) return;
  await inTransaction(async (client) => {
    const res = await client.query<{ id: string; incident_id: number | null }>(
      `INSERT INTO anomaly (id, engine_id, stream_id, stream_ids, start_at, end_at, peak_score, severity, type, explanation, updated_at)
       SELECT gen_random_uuid(), e, s, ARRAY(SELECT jsonb_array_elements_text(ids::jsonb)::int), to_timestamp(st / 1000.0),
              CASE WHEN en IS NULL THEN NULL ELSE to_timestamp(en / 1000.0) END, pk, sv::"Severity", ty::"AnomalyType", ex::jsonb, now()
       FROM unnest($1::text[], $2::int[], $3::text[], $4::float8[], $5::float8[], $6::float8[], $7::text[], $8::text[], $9::text[])
         AS x(e, s, ids, st, en, pk, sv, ty, ex)
       -- a stream deleted while the worker still scored it: its events are dropped, not retried forever
       WHERE EXISTS (SELECT 1 FROM stream WHERE stream.id = x.s)
       -- An ended anomaly going on again (the engine extended it) opens again, unless a person
       -- closed it: its incident closed by itself ("auto"), and nobody called it a false positive.
       ON CONFLICT (engine_id) DO UPDATE SET end_at = EXCLUDED.end_at, stream_ids = EXCLUDED.stream_ids,
         status = CASE WHEN anomaly.status = 'resolved' AND anomaly.end_at IS NOT NULL AND EXCLUDED.end_at IS NULL
                            AND anomaly.label IS DISTINCT FROM 'false_positive'
                            AND (SELECT i.resolved_by FROM incident i WHERE i.id = anomaly.incident_id) = 'auto'
                       THEN 'open'::"AnomalyStatus" ELSE anomaly.status END,
         peak_score = GREATEST(anomaly.peak_score, EXCLUDED.peak_score),
         severity = CASE WHEN EXCLUDED.peak_score >= anomaly.peak_score THEN EXCLUDED.severity ELSE anomaly.severity END,
         type = EXCLUDED.type, explanation = EXCLUDED.explanation, updated_at = now()
       RETURNING id, incident_id`,
      [
        rows.map((r) => r.engineId),
        rows.map((r) => r.streamId),
        rows.map((r) => JSON.stringify(r.streamIds)),
        rows.map((r) => r.startMs),
        rows.map((r) => r.endMs),
        rows.map((r) => r.peakScore),
        rows.map((r) => r.severity),
        rows.map((r) => r.type),
        rows.map((r) => JSON.stringify(r.explanation)),
      ],
    );
    await assignAndRefresh(
      client,
      res.rows.map((r) => ({ id: r.id, incidentId: r.incident_id })),
    );
  });
}

const SELECT = `
  SELECT a.id, a.engine_id, a.stream_id, s.key AS stream_key, a.stream_ids, a.incident_id, a.incident_link,
         (extract(epoch FROM a.start_at) * 1000)::float8 AS start_ms,
         (extract(epoch FROM a.end_at) * 1000)::float8 AS end_ms,
         a.peak_score, a.severity::text AS severity, a.type::text AS type, a.status::text AS status,
         a.label::text AS label, a.explanation,
         (extract(epoch FROM a.created_at) * 1000)::float8 AS created_ms,
         (extract(epoch FROM a.updated_at) * 1000)::float8 AS updated_ms,
         ${HISTORICAL_SQL} AS historical
  FROM anomaly a JOIN stream s ON s.id = a.stream_id`;

/** The anomaly columns every anomaly read selects (with these names), for its zod row schema. */
export const ANOMALY_FIELDS = {
  id: z.string(),
  stream_id: z.number(),
  stream_key: z.string(),
  start_ms: ZMs,
  end_ms: ZMs.nullable(),
  peak_score: z.number(),
  severity: ZSeverity,
  type: ZAnomalyType,
  status: ZAnomalyStatus,
  created_ms: ZMs,
  updated_ms: ZMs,
};

/** `ANOMALY_FIELDS` of a parsed row, as the camel-cased fields every anomaly object shares. */
export function anomalyFields(r: z.infer<z.ZodObject<typeof ANOMALY_FIELDS>>) {
  return {
    id: r.id,
    streamId: r.stream_id,
    streamKey: r.stream_key,
    startMs: r.start_ms,
    endMs: r.end_ms,
    peakScore: r.peak_score,
    severity: r.severity,
    type: r.type,
    status: r.status,
    createdAtMs: r.created_ms,
    updatedAtMs: r.updated_ms,
  };
}

const ZAnomalyRow = z
  .object({
    ...ANOMALY_FIELDS,
    engine_id: z.string(),
    stream_ids: z.array(z.number()),
    incident_id: z.number().nullable(),
    // a malformed stored link reads as none (it only explains why the anomaly joined)
    incident_link: z.unknown().transform((v) => (v ? (ZIncidentLink.safeParse(v).data ?? null) : null)),
    label: ZAnomalyLabel.nullable(),
    explanation: ZJsonObject,
    historical: z.boolean(),
  })
  .transform(
    (r): AnomalyRow => ({
      ...anomalyFields(r),
      engineId: r.engine_id,
      streamIds: r.stream_ids,
      incidentId: r.incident_id,
      incidentLink: r.incident_link,
      label: r.label,
      explanation: r.explanation,
      historical: r.historical,
    }),
  );

const toRow = (r: unknown): AnomalyRow => ZAnomalyRow.parse(r);

export interface AnomalyFilter {
  status?: TAnomalyStatus[];
  severity?: TSeverity[];
  type?: TAnomalyType[];
  streamId?: number;
  incidentId?: number;
  label?: TAnomalyLabel[];
  search?: string;
  /** true: only history found by imports/backfill; false: only what was detected live. */
  historical?: boolean;
  /** Only anomalies nobody labelled yet. */
  unlabelled?: boolean;
  excludeId?: string;
  /** Anomalies outside this incident on one of its streams with the type of its anomaly there ("label all similar"). */
  similarToIncident?: number;
  fromMs?: number;
  toMs?: number;
  sort?: "start" | "severity" | "score";
  dir?: "asc" | "desc";
  limit?: number;
  offset?: number;
}

function whereFor(f: AnomalyFilter): { whereSql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    args.push(v);
    where.push(sql.replace("?", `$${args.length}`));
  };
  if (f.status?.length) add(`a.status::text = ANY(?::text[])`, f.status);
  if (f.severity?.length) add(`a.severity::text = ANY(?::text[])`, f.severity);
  if (f.type?.length) add(`a.type::text = ANY(?::text[])`, f.type);
  if (f.label?.length) add(`a.label::text = ANY(?::text[])`, f.label);
  if (f.unlabelled) where.push(`a.label IS NULL`);
  if (f.streamId !== undefined) {
    args.push(f.streamId);
    where.push(`(a.stream_id = $${args.length} OR $${args.length} = ANY(a.stream_ids))`);
  }
  if (f.incidentId !== undefined) add(`a.incident_id = ?`, f.incidentId);
  if (f.search) add(`s.key ILIKE ?`, `%${f.search}%`);
  if (f.historical !== undefined) where.push(f.historical ? HISTORICAL_SQL : `NOT ${HISTORICAL_SQL}`);
  if (f.excludeId) add(`a.id <> ?`, f.excludeId);
  if (f.similarToIncident !== undefined) {
    args.push(f.similarToIncident);
    const id = `$${args.length}`;
    where.push(`a.incident_id IS DISTINCT FROM ${id} AND (a.stream_id, a.type) IN (SELECT m.stream_id, m.type FROM anomaly m WHERE m.incident_id = ${id})`);
  }
  if (f.fromMs !== undefined) add(`COALESCE(a.end_at, now()) >= to_timestamp(? / 1000.0)`, f.fromMs);
  if (f.toMs !== undefined) add(`a.start_at <= to_timestamp(? / 1000.0)`, f.toMs);
  return { whereSql: where.length ? `WHERE ${where.join(" AND ")}` : "", args };
}

export async function listAnomalies(f: AnomalyFilter = {}): Promise<{ rows: AnomalyRow[]; total: number }> {
  const { whereSql, args } = whereFor(f);
  const dir = f.dir === "asc" ? "ASC" : "DESC";
  const order =
    f.sort === "severity"
      ? `a.severity ${dir}, a.peak_score ${dir}`
      : f.sort === "score"
        ? `a.peak_score ${dir}`
        : `a.start_at ${dir}`;
  const countRes = await pool().query<{ n: number }>(
    `SELECT count(*)::int AS n FROM anomaly a JOIN stream s ON s.id = a.stream_id ${whereSql}`,
    args,
  );
  args.push(f.limit ?? 100, f.offset ?? 0);
  const res = await pool().query(
    `${SELECT} ${whereSql} ORDER BY ${order}, a.id LIMIT $${args.length - 1} OFFSET $${args.length}`,
    args,
  );
  return { rows: res.rows.map(toRow), total: countRes.rows[0]?.n ?? 0 };
}

/** Ids of every anomaly the filter matches (oldest first), at most `cap`; `total` counts them all. */
export async function anomalyIdsMatching(f: AnomalyFilter, cap: number): Promise<{ ids: string[]; total: number; firstMs: number | null; lastMs: number | null }> {
  const { whereSql, args } = whereFor(f);
  const agg = await pool().query<{ n: number; first_ms: number | null; last_ms: number | null }>(
    `SELECT count(*)::int AS n, (extract(epoch FROM min(a.start_at)) * 1000)::float8 AS first_ms,
            (extract(epoch FROM max(a.start_at)) * 1000)::float8 AS last_ms
     FROM anomaly a JOIN stream s ON s.id = a.stream_id ${whereSql}`,
    args,
  );
  args.push(cap);
  const res = await pool().query<{ id: string }>(
    `SELECT a.id FROM anomaly a JOIN stream s ON s.id = a.stream_id ${whereSql} ORDER BY a.start_at, a.id LIMIT $${args.length}`,
    args,
  );
  const a = agg.rows[0];
  return { ids: res.rows.map((r) => r.id), total: a?.n ?? 0, firstMs: a?.first_ms ?? null, lastMs: a?.last_ms ?? null };
}

export async function getAnomaly(id: string): Promise<AnomalyRow | null> {
  const res = await pool().query(`${SELECT} WHERE a.id = $1`, [id]);
  return res.rows[0] ? toRow(res.rows[0]) : null;
}

/** Sets anomalies' status; their incidents are recomputed (all members resolved by hand closes one). */
export async function setAnomalyStatus(ids: string[], status: TAnomalyStatus): Promise<number> {
  return inTransaction(async (client) => {
    const res = await client.query<{ incident_id: number | null }>(
      `UPDATE anomaly SET status = $2::"AnomalyStatus", updated_at = now() WHERE id = ANY($1::text[]) RETURNING incident_id`,
      [ids, status],
    );
    await refreshIncidents(client, [...new Set(res.rows.map((r) => r.incident_id).filter((x): x is number => x !== null))]);
    return res.rowCount ?? 0;
  });
}

export async function setAnomalyLabel(ids: string[], label: TAnomalyLabel | null): Promise<number> {
  const res = await pool().query(`UPDATE anomaly SET label = $2::"AnomalyLabel", updated_at = now() WHERE id = ANY($1::text[])`, [
    ids,
    label,
  ]);
  return res.rowCount ?? 0;
}

export async function countOpenBySeverity(): Promise<Record<TSeverity, number>> {
  const res = await pool().query<{ severity: TSeverity; n: number }>(
    `SELECT severity::text AS severity, count(*)::int AS n FROM anomaly a WHERE status = 'open' AND NOT ${HISTORICAL_SQL} GROUP BY 1`,
  );
  const out: Record<TSeverity, number> = { low: 0, medium: 0, high: 0 };
  for (const r of res.rows) out[r.severity] = r.n;
  return out;
}

/** Latest open-anomaly severity per stream (for the overview's "current severity"). */
export async function openSeverityByStream(): Promise<Map<number, TSeverity>> {
  const res = await pool().query<{ stream_id: number; severity: TSeverity }>(
    `SELECT DISTINCT ON (a.stream_id) a.stream_id, a.severity::text AS severity FROM anomaly a
     WHERE a.status = 'open' AND NOT ${HISTORICAL_SQL} ORDER BY a.stream_id, a.severity DESC`,
  );
  return new Map(res.rows.map((r) => [r.stream_id, r.severity]));
}
