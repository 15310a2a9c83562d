import type pg from "pg";
import { z } from "zod";
import { CONTEXT_MS, dependencyEdge, gridOver, GRID_POINTS, onGrid } from "@/lib/explain/dependency";
import {
  assignIncidents,
  INCIDENT_SLACK_MS,
  overlaps,
  related,
  type OpenIncident,
  type StreamLink,
  type UnassignedAnomaly,
} from "@/lib/triage/incident-assign";
import { HISTORICAL_LAG_MS } from "@/lib/triage/freshness";
import { readSeries } from "./storage/samples";
import { queryRows } from "./rows";

/**
 * Incident bookkeeping inside the anomaly write transaction. An anomaly gets its incident when
 * its row is first written, in the same transaction, so a re-write of the same engine event
 * (a worker replay after a crash) finds the row with its incident and never creates a second one.
 */

/** Serialises incident assignment between writers (pipeline, scale-out partitions): two new anomalies of one event must not each create an incident. */
const ASSIGN_LOCK = 0x0e1c1de7;

type Queryable = Pick<pg.PoolClient, "query">;

/** Incidents of other sources and groups read as candidates for a dependency link (the newest). */
const MAX_LINK_CANDIDATES = 20;
/** Anomalies per write that look for a dependency link, and member streams compared with each. */
const MAX_LINK_ANOMALIES = 8;
const MAX_LINK_PARTNERS = 8;

/** Assigns incidents to the written anomalies that have none, then recomputes the touched incidents. */
export async function assignAndRefresh(client: Queryable, written: { id: string; incidentId: number | null }[]): Promise<void> {
  const touched = new Set<number>();
  for (const w of written) if (w.incidentId !== null) touched.add(w.incidentId);
  const unassigned = written.filter((w) => w.incidentId === null).map((w) => w.id);
  if (unassigned.length) for (const id of await assignNew(client, unassigned)) touched.add(id);
  await refreshIncidents(client, [...touched]);
}

async function assignNew(client: Queryable, anomalyIds: string[]): Promise<number[]> {
  await client.query(`SELECT pg_advisory_xact_lock($1)`, [ASSIGN_LOCK]);
  // Re-read under the lock: a concurrent writer may have assigned these rows meanwhile.
  const rows = await queryRows(
    client,
    z.object({
      id: z.string(),
      stream_id: z.number(),
      stream_ids: z.array(z.number()),
      source_id: z.number(),
      group: z.string().nullable(),
      start_ms: z.number(),
      end_ms: z.number().nullable(),
    }),
    // The grouping key: source and group; a stream without a group is grouped by its job label
    // (an OpenTelemetry service.name, a Prometheus job), so services sharing one source stay apart.
    `SELECT a.id, a.stream_id, a.stream_ids, s.source_id, COALESCE(s."group", s.labels ->> 'job') AS "group",
            (extract(epoch FROM a.start_at) * 1000)::float8 AS start_ms, (extract(epoch FROM a.end_at) * 1000)::float8 AS end_ms
     FROM anomaly a JOIN stream s ON s.id = a.stream_id WHERE a.id = ANY($1::text[]) AND a.incident_id IS NULL`,
    [anomalyIds],
  );
  const pending: UnassignedAnomaly[] = rows.map((r) => ({
    id: r.id,
    streamId: r.stream_id,
    streamIds: r.stream_ids,
    sourceId: r.source_id,
    group: r.group,
    startMs: r.start_ms,
    endMs: r.end_ms,
  }));
  if (!pending.length) return [];
  const sources = [...new Set(pending.map((p) => p.sourceId))];
  const streams = [...new Set(pending.flatMap((p) => [p.streamId, ...p.streamIds]))];
  const minStart = Math.min(...pending.map((p) => p.startMs));
  const maxEnd = pending.some((p) => p.endMs === null) ? null : Math.max(...pending.map((p) => p.endMs!));
  // Candidates: incidents still taking members. One a person resolved is closed for good; one
  // that closed by itself opens again when a new anomaly joins it (a rule that announced its
  // resolution announces the reopening, with the next sequence number).
  const candidateSql = (where: string, limit: string) =>
    `SELECT i.id, i.source_id, i."group", i.stream_ids, i.historical,
            (extract(epoch FROM i.start_at) * 1000)::float8 AS start_ms, (extract(epoch FROM i.end_at) * 1000)::float8 AS end_ms,
            (SELECT extract(epoch FROM max(COALESCE(a.end_at, a.start_at))) * 1000 FROM anomaly a WHERE a.incident_id = i.id)::float8 AS last_ms,
            ARRAY(SELECT DISTINCT s.source_id || COALESCE('/' || COALESCE(s."group", s.labels ->> 'job'), '')
                  FROM anomaly a JOIN stream s ON s.id = a.stream_id WHERE a.incident_id = i.id AND a.incident_link IS NOT NULL) AS groups
     FROM incident i
     WHERE ${where}
       AND (i.status <> 'resolved' OR i.resolved_by = 'auto')
       AND COALESCE(i.end_at, 'infinity') >= to_timestamp(($3::float8 - $5::float8) / 1000.0)
       AND ($4::float8 IS NULL OR i.start_at <= to_timestamp(($4::float8 + $5::float8) / 1000.0))
     ORDER BY i.start_at ${limit ? "DESC" : ""}, i.id ${limit}
     FOR UPDATE OF i`;
  const own = "(i.source_id = ANY($1::int[]) OR i.stream_ids && $2::int[])";
  const args = [sources, streams, minStart, maxEnd, INCIDENT_SLACK_MS];
  const ZCandidate = z.object({
    id: z.number(),
    source_id: z.number(),
    group: z.string().nullable(),
    stream_ids: z.array(z.number()),
    historical: z.boolean(),
    start_ms: z.number(),
    end_ms: z.number().nullable(),
    last_ms: z.number().nullable(),
    groups: z.array(z.string()),
  });
  const cand = await queryRows(client, ZCandidate, candidateSql(own, ""), args);
  // the newest incidents elsewhere: an anomaly that finds none of its own may be linked to one in the dependency graph
  const others = await queryRows(client, ZCandidate, candidateSql(`NOT ${own}`, `LIMIT ${MAX_LINK_CANDIDATES}`), args);
  const candidates: OpenIncident[] = [...cand, ...others].map((r) => ({
    id: r.id,
    sourceId: r.source_id,
    group: r.group,
    streamIds: r.stream_ids,
    startMs: r.start_ms,
    // A live incident still open is going on now; one found in history that never closed ends,
    // for grouping, at its last known moment (else it would swallow every later anomaly).
    endMs: r.end_ms ?? (r.historical ? r.last_ms : null),
    groups: r.groups,
  }));
  const links = await dependencyLinks(client, pending, candidates);
  const { incidentOf, created, linkOf } = assignIncidents(pending, candidates, INCIDENT_SLACK_MS, links);
  // Real ids for the new incidents, then their rows (aggregates are filled by refreshIncidents).
  const realId = new Map<number, number>();
  if (created.size) {
    const ids = await client.query<{ id: number }>(`SELECT nextval('incident_id_seq')::int AS id FROM generate_series(1, $1)`, [created.size]);
    [...created.keys()].forEach((tmp, k) => realId.set(tmp, ids.rows[k]!.id));
    const rows = [...created.entries()];
    await client.query(
      `INSERT INTO incident (id, source_id, "group", stream_ids, start_at, severity, peak_score, type)
       SELECT id, src, grp, '{}', to_timestamp(st / 1000.0), 'low', 0, 'point' FROM unnest($1::int[], $2::int[], $3::text[], $4::float8[]) AS x(id, src, grp, st)`,
      [rows.map(([tmp]) => realId.get(tmp)!), rows.map(([, i]) => i.sourceId), rows.map(([, i]) => i.group), rows.map(([, i]) => i.startMs)],
    );
  }
  const pairs = [...incidentOf.entries()].map(([aid, iid]) => [aid, iid < 0 ? realId.get(iid)! : iid] as const);
  await client.query(
    `UPDATE anomaly a SET incident_id = x.iid, incident_link = x.link::jsonb FROM unnest($1::text[], $2::int[], $3::text[]) AS x(aid, iid, link) WHERE a.id = x.aid`,
    [pairs.map((p) => p[0]), pairs.map((p) => p[1]), pairs.map((p) => (linkOf.has(p[0]) ? JSON.stringify(linkOf.get(p[0])) : null))],
  );
  return [...new Set(pairs.map((p) => p[1]))];
}

/**
 * Dependency-graph edges (lib/explain/dependency.ts) for the anomalies that would otherwise start
 * an incident of their own: between each one's stream and the streams of the incidents and new
 * anomalies of other sources and groups it overlaps in time, over the two hours before the
 * earliest of their onsets. Bounded (anomalies, partners each) so a write stays cheap; read on
 * the transaction's client, which holds the assignment lock.
 */
async function dependencyLinks(client: Queryable, pending: UnassignedAnomaly[], candidates: OpenIncident[]): Promise<StreamLink[]> {
  const alone = assignIncidents(pending, candidates);
  const others: OpenIncident[] = [
    ...candidates,
    // the batch's own anomalies, as the incidents they would start
    ...pending.map((p, k) => ({ id: -1 - k, sourceId: p.sourceId, group: p.group, streamIds: [p.streamId], startMs: p.startMs, endMs: p.endMs })),
  ];
  const work: { a: UnassignedAnomaly; partners: number[]; beforeMs: number }[] = [];
  for (const a of pending) {
    if ((alone.incidentOf.get(a.id) ?? 0) >= 0 || work.length >= MAX_LINK_ANOMALIES) continue;
    const partners = new Set<number>();
    let beforeMs = a.startMs;
    for (const i of others) {
      if (related(a, i) || !overlaps(a, i, INCIDENT_SLACK_MS)) continue;
      for (const s of i.streamIds) if (partners.size < MAX_LINK_PARTNERS) partners.add(s);
      beforeMs = Math.min(beforeMs, i.startMs);
    }
    if (partners.size) work.push({ a, partners: [...partners], beforeMs });
  }
  const links: StreamLink[] = [];
  const measured = new Set<string>();
  for (const { a, partners, beforeMs } of work) {
    // Before the event only: two spikes at the same moment would correlate any two streams.
    // Streams that move together in ordinary hours depend on each other (or on one cause).
    const fromMs = beforeMs - CONTEXT_MS;
    const toMs = beforeMs;
    const grid = gridOver(fromMs, toMs);
    const read = async (id: number) => onGrid(grid, await readSeries(id, fromMs, toMs, GRID_POINTS, client));
    const mine = await read(a.streamId);
    for (const p of partners) {
      const pair = a.streamId < p ? `${a.streamId}-${p}` : `${p}-${a.streamId}`;
      if (measured.has(pair)) continue;
      measured.add(pair);
      const edge = dependencyEdge(mine, await read(p), grid);
      if (edge) links.push({ streamIds: [a.streamId, p], leaderId: edge.leader === "x" ? a.streamId : p, lagSec: edge.lagSec, correlation: edge.correlation });
    }
  }
  return links;
}

/**
 * Recomputes incidents from their members: span, severity, peak, streams, count, history flag,
 * type (until an alert froze it) and status. Status: a person's resolution sticks; otherwise the
 * incident is resolved ("auto") once every member ended or was resolved, and an auto-resolved
 * incident that gains a running member opens again. Members follow the moment of an automatic
 * resolution (`old` is the row before this update).
 */
export async function refreshIncidents(client: Queryable, ids: number[]): Promise<void> {
  if (!ids.length) return;
  const res = await client.query<{ id: number; auto_resolved: boolean }>(
    `WITH agg AS (
       SELECT a.incident_id AS id, min(a.start_at) AS start_at,
              bool_and(a.end_at IS NOT NULL OR a.status = 'resolved') AS done,
              COALESCE(max(a.end_at), max(a.updated_at)) AS last_end,
              max(a.severity) AS severity, max(a.peak_score) AS peak_score, count(*)::int AS n,
              bool_and(a.created_at - COALESCE(a.end_at, a.start_at) > interval '${HISTORICAL_LAG_MS / 1000} seconds') AS historical,
              (array_agg(a.type ORDER BY a.peak_score DESC, a.start_at, a.id))[1] AS lead_type
       FROM anomaly a WHERE a.incident_id = ANY($1::int[]) GROUP BY a.incident_id
     ), streams AS (
       SELECT a.incident_id AS id, array_agg(DISTINCT x ORDER BY x) AS stream_ids
       FROM anomaly a CROSS JOIN LATERAL unnest(array_append(a.stream_ids, a.stream_id)) AS x
       WHERE a.incident_id = ANY($1::int[]) GROUP BY a.incident_id
     )
     UPDATE incident i SET
       start_at = agg.start_at,
       end_at = CASE WHEN agg.done THEN agg.last_end END,
       severity = agg.severity, peak_score = agg.peak_score, anomaly_count = agg.n, historical = agg.historical,
       stream_ids = streams.stream_ids,
       type = CASE WHEN i.type_frozen THEN i.type ELSE agg.lead_type END,
       status = CASE WHEN i.status = 'resolved' AND i.resolved_by IS DISTINCT FROM 'auto' THEN i.status
                     WHEN agg.done THEN 'resolved'
                     WHEN i.status = 'resolved' THEN 'open'
                     ELSE i.status END,
       resolved_by = CASE WHEN i.status = 'resolved' AND i.resolved_by IS DISTINCT FROM 'auto' THEN i.resolved_by
                          WHEN agg.done THEN 'auto' END,
       resolved_at = CASE WHEN i.status = 'resolved' AND (i.resolved_by IS DISTINCT FROM 'auto' OR agg.done) THEN COALESCE(i.resolved_at, now())
                          WHEN agg.done THEN now() END,
       updated_at = now()
     FROM agg JOIN streams USING (id), incident old
     WHERE i.id = agg.id AND old.id = i.id
     RETURNING i.id, (i.status = 'resolved' AND i.resolved_by = 'auto' AND old.status <> 'resolved') AS auto_resolved`,
    [ids],
  );
  const closed = res.rows.filter((r) => r.auto_resolved).map((r) => r.id);
  if (closed.length) {
    await client.query(`UPDATE anomaly SET status = 'resolved', updated_at = now() WHERE incident_id = ANY($1::int[]) AND status <> 'resolved'`, [closed]);
  }
}
