import type { TLabels, TStreamKind } from "@/lib/schemas/stream";
import { typicalStep } from "@/lib/triage/freshness";
import { parseStreamFilter } from "@/lib/triage/stream-filter";
import { db, pool } from "../db";
import { nanToNull, unpack } from "./storage/stream-recent";

/** A stream's identity, latest value/score and health. */
export interface StreamInfo {
  id: number;
  sourceId: number;
  sourceName: string;
  sourceKind: string;
  metric: string;
  labels: TLabels;
  key: string;
  kind: TStreamKind;
  group: string | null;
  unit: string | null;
  lastSampleAtMs: number | null;
  lastValue: number | null;
  lastScore: number | null;
  health: number | null;
  availability: number | null;
  /** when its series ended (a Prometheus staleness marker; see `markStreamsEnded`); null: not ended, or revived by a newer sample */
  endedAtMs: number | null;
  /** when the stream (or its source) was archived; null: active */
  archivedAtMs: number | null;
  /** archived with its source (restoring the source restores it) */
  sourceArchived: boolean;
}

/** Recent points for sparklines: epoch ms, value, score (null when not scored); time order. */
export interface SparkPoints {
  t: number[];
  v: (number | null)[];
  s: (number | null)[];
}

/** A row of a stream list, with how often the stream reports (see `typicalStep`; 0: unknown). */
export interface StreamListRow extends StreamInfo {
  stepMs: number;
}

export interface StreamRow extends StreamListRow {
  spark: SparkPoints;
}

export interface StreamSpec {
  metric: string;
  labels: TLabels;
  key: string;
  kind: TStreamKind;
  group?: string | null;
  unit?: string | null;
}

/** Ids of existing streams by key for one source. */
export async function findStreamIds(sourceId: number, keys: string[]): Promise<Map<string, number>> {
  const res = await pool().query<{ id: number; key: string }>(
    "SELECT id, key FROM stream WHERE source_id = $1 AND key = ANY($2::text[])",
    [sourceId, keys],
  );
  return new Map(res.rows.map((r) => [r.key, r.id]));
}

/** Stored kinds of existing streams by key for one source. */
export async function findStreamKinds(sourceId: number, keys: string[]): Promise<Map<string, TStreamKind>> {
  const res = await pool().query<{ key: string; kind: TStreamKind }>(
    "SELECT key, kind::text AS kind FROM stream WHERE source_id = $1 AND key = ANY($2::text[])",
    [sourceId, keys],
  );
  return new Map(res.rows.map((r) => [r.key, r.kind]));
}

/**
 * Staleness markers: each stream ends at its newest marker's time unless a sample at or after
 * that time is known (`last_sample_at`, which the worker keeps) or it ended later already.
 * Returns how many streams were marked.
 */
export async function markStreamsEnded(ids: ArrayLike<number>, tsMs: ArrayLike<number>): Promise<number> {
  if (ids.length === 0) return 0;
  const res = await pool().query(
    `UPDATE stream s SET ended_at = to_timestamp(x.t / 1000.0)
     FROM (SELECT id, max(t) AS t FROM unnest($1::int[], $2::float8[]) AS u(id, t) GROUP BY id) x
     WHERE s.id = x.id
       AND (s.ended_at IS NULL OR s.ended_at < to_timestamp(x.t / 1000.0))
       AND (s.last_sample_at IS NULL OR s.last_sample_at < to_timestamp(x.t / 1000.0))`,
    [Array.from(ids), Array.from(tsMs)],
  );
  return res.rowCount ?? 0;
}

/** Which of `ids` are marked ended (see `markStreamsEnded`): id → end time (epoch ms). */
export async function readEndedStreams(ids: readonly number[]): Promise<Map<number, number>> {
  const res = await pool().query<{ id: number; t: number }>(
    "SELECT id, (extract(epoch FROM ended_at) * 1000)::float8 AS t FROM stream WHERE id = ANY($1::int[]) AND ended_at IS NOT NULL",
    [ids],
  );
  return new Map(res.rows.map((r) => [r.id, r.t]));
}

export async function countStreams(sourceId: number): Promise<number> {
  const res = await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM stream WHERE source_id = $1", [sourceId]);
  return res.rows[0]?.n ?? 0;
}

/** Creates the given streams (ignoring ones that already exist) and returns all their ids. */
export async function createStreams(sourceId: number, specs: StreamSpec[]): Promise<Map<string, number>> {
  if (specs.length === 0) return new Map();
  await pool().query(
    `INSERT INTO stream (source_id, metric, labels, key, kind, "group", unit)
     SELECT $1, m, l::jsonb, k, kd::"StreamKind", g, u
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS x(m, l, k, kd, g, u)
     ON CONFLICT (source_id, key) DO NOTHING`,
    [
      sourceId,
      specs.map((s) => s.metric),
      specs.map((s) => JSON.stringify(s.labels)),
      specs.map((s) => s.key),
      specs.map((s) => s.kind),
      specs.map((s) => s.group ?? null),
      specs.map((s) => s.unit ?? null),
    ],
  );
  return findStreamIds(
    sourceId,
    specs.map((s) => s.key),
  );
}

/** A stream is archived when it or its source is. */
const ARCHIVED_SQL = "(s.archived_at IS NOT NULL OR src.archived_at IS NOT NULL)";

const INFO_COLUMNS = `s.id, s.source_id, src.name AS source_name, src.kind::text AS source_kind, s.metric, s.labels, s.key,
         s.kind::text AS kind, s."group", s.unit,
         (extract(epoch FROM s.last_sample_at) * 1000)::float8 AS last_sample_at_ms,
         s.last_value, s.last_score, h.health, h.availability,
         (extract(epoch FROM s.ended_at) * 1000)::float8 AS ended_at_ms,
         (extract(epoch FROM COALESCE(s.archived_at, src.archived_at)) * 1000)::float8 AS archived_at_ms,
         src.archived_at IS NOT NULL AS source_archived`;
const FROM_SQL = `FROM stream s JOIN source src ON src.id = s.source_id
  LEFT JOIN stream_health h ON h.stream_id = s.id`;

type InfoRow = {
  id: number;
  source_id: number;
  source_name: string;
  source_kind: string;
  metric: string;
  labels: TLabels;
  key: string;
  kind: TStreamKind;
  group: string | null;
  unit: string | null;
  last_sample_at_ms: number | null;
  last_value: number | null;
  last_score: number | null;
  ended_at_ms: number | null;
  archived_at_ms: number | null;
  source_archived: boolean;
  health: number | null;
  availability: number | null;
};
type SparkRow = { spark_t: Buffer | null; spark_v: Buffer | null; spark_s: Buffer | null };

/** One object literal per row (no spread or rest: the overview builds a thousand of them per poll). */
function toListRow(r: InfoRow, stepMs: number): StreamListRow {
  return {
    id: r.id,
    sourceId: r.source_id,
    sourceName: r.source_name,
    sourceKind: r.source_kind,
    metric: r.metric,
    labels: r.labels,
    key: r.key,
    kind: r.kind,
    group: r.group,
    unit: r.unit,
    lastSampleAtMs: r.last_sample_at_ms,
    lastValue: r.last_value,
    lastScore: r.last_score,
    health: r.health,
    availability: r.availability,
    endedAtMs: r.ended_at_ms,
    archivedAtMs: r.archived_at_ms,
    sourceArchived: r.source_archived,
    stepMs,
  };
}

function toSpark(r: SparkRow): SparkPoints {
  return { t: unpack(r.spark_t), v: unpack(r.spark_v).map(nanToNull), s: unpack(r.spark_s).map(nanToNull) };
}

export interface ListStreamsFilter {
  search?: string;
  sourceId?: number;
  group?: string;
  /** false (default): active streams only; true: archived ones only (the stream or its source) */
  archived?: boolean;
  limit?: number;
  offset?: number;
}

/**
 * Streams matching the filter, in overview order. Of the sparklines only the times are read
 * (for the step): the value and score points, two thirds of a row's bytes, are read for the
 * cards on screen (`readSparklines`). With `stepIfSampleBeforeMs`, only the streams whose newest
 * sample is older (or missing) bring their times, and the others have stepMs 0 (unknown): a
 * caller judging freshness needs no step for them (`freshWhateverStepSince`), and encoding and
 * decoding 1,000 rows' times was half of this query's database time.
 */
export async function listStreams(f: ListStreamsFilter = {}, stepIfSampleBeforeMs?: number): Promise<StreamListRow[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.search) {
    const parsed = parseStreamFilter(f.search);
    for (const t of parsed.text) {
      args.push(`%${t.replace(/[\\%_]/g, "\\$&")}%`);
      where.push(`s.key ILIKE $${args.length}`);
    }
    for (const l of parsed.labels) {
      args.push(l.name, l.value);
      where.push(`s.labels ->> $${args.length - 1} = $${args.length}`);
    }
  }
  if (f.sourceId !== undefined) {
    args.push(f.sourceId);
    where.push(`s.source_id = $${args.length}`);
  }
  if (f.group) {
    args.push(f.group);
    where.push(`s."group" = $${args.length}`);
  }
  where.push(f.archived ? ARCHIVED_SQL : `NOT ${ARCHIVED_SQL}`);
  let sparkT = "s.spark_t";
  if (stepIfSampleBeforeMs !== undefined) {
    args.push(stepIfSampleBeforeMs);
    sparkT = `CASE WHEN s.last_sample_at < to_timestamp($${args.length} / 1000.0) THEN s.spark_t END`;
  }
  args.push(f.limit ?? 500, f.offset ?? 0);
  // base64 text, not bytea: half the bytes of bytea's hex text, decoded natively
  const res = await pool().query<InfoRow & { spark_t: string | null }>(
    `SELECT ${INFO_COLUMNS}, encode(${sparkT}, 'base64') AS spark_t ${FROM_SQL} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY src.name, s."group" NULLS LAST, s.key LIMIT $${args.length - 1} OFFSET $${args.length}`,
    args,
  );
  return res.rows.map((r) => toListRow(r, typicalStep(unpack(r.spark_t === null ? null : Buffer.from(r.spark_t, "base64")))));
}

export async function getStream(id: number): Promise<StreamRow | null> {
  const res = await pool().query<InfoRow & SparkRow>(`SELECT ${INFO_COLUMNS}, s.spark_t, s.spark_v, s.spark_s ${FROM_SQL} WHERE s.id = $1`, [id]);
  const row = res.rows[0];
  if (!row) return null;
  const spark = toSpark(row);
  return { ...toListRow(row, typicalStep(spark.t)), spark };
}

/** Sparkline points of the given streams (unknown ids are left out). */
export async function readSparklines(ids: readonly number[]): Promise<(SparkPoints & { id: number })[]> {
  const res = await pool().query<SparkRow & { id: number }>("SELECT id, spark_t, spark_v, spark_s FROM stream WHERE id = ANY($1::int[])", [ids]);
  return res.rows.map((r) => ({ id: r.id, ...toSpark(r) }));
}

/** Saves a stream's kind; false when the stream does not exist. */
export async function setStreamKind(id: number, kind: TStreamKind): Promise<boolean> {
  const r = await db().stream.updateMany({ where: { id }, data: { kind } });
  return r.count > 0;
}

export async function allStreamKinds(): Promise<{ id: number; kind: TStreamKind }[]> {
  const res = await pool().query<{ id: number; kind: TStreamKind }>("SELECT id, kind::text AS kind FROM stream");
  return res.rows;
}

export async function upsertStreamHealth(
  rows: { id: number; health: number; availability: number; gapClass: string | null }[],
): Promise<void> {
  if (rows.length === 0) return;
  await pool().query(
    `INSERT INTO stream_health (stream_id, health, availability, gap_class, updated_at)
     SELECT id, h, a, g, now() FROM unnest($1::int[], $2::float8[], $3::float8[], $4::text[]) AS x(id, h, a, g)
     WHERE EXISTS (SELECT 1 FROM stream WHERE stream.id = x.id)
     ON CONFLICT (stream_id) DO UPDATE SET health = EXCLUDED.health, availability = EXCLUDED.availability,
       gap_class = EXCLUDED.gap_class, updated_at = now()`,
    [rows.map((r) => r.id), rows.map((r) => r.health), rows.map((r) => r.availability), rows.map((r) => r.gapClass)],
  );
}

export async function countAllStreams(): Promise<number> {
  return db().stream.count();
}

export interface StreamRef {
  id: number;
  key: string;
  sourceId: number;
  sourceName: string;
  group: string | null;
  /** Counters are scored as rates: only a gauge's raw value is on its forecast's scale. */
  kind: "gauge" | "counter" | "event";
}

/** Streams by id or by key (every source's stream of that key); one query. */
export async function findStreamRefs(ids: number[], keys: string[]): Promise<StreamRef[]> {
  const res = await pool().query<{ id: number; key: string; source_id: number; source_name: string; group: string | null; kind: StreamRef["kind"] }>(
    `SELECT s.id, s.key, s.source_id, src.name AS source_name, s."group", s.kind::text AS kind FROM stream s JOIN source src ON src.id = s.source_id
     WHERE s.id = ANY($1::int[]) OR s.key = ANY($2::text[])`,
    [ids, keys],
  );
  return res.rows.map((r) => ({ id: r.id, key: r.key, sourceId: r.source_id, sourceName: r.source_name, group: r.group, kind: r.kind }));
}
