import { pool } from "../db";

export type SourceKind = "host" | "remote_write" | "prometheus_pull" | "otlp" | "csv" | "self";

export interface SourceRow {
  id: number;
  name: string;
  kind: SourceKind;
  enabled: boolean;
  config: Record<string, unknown>;
  cardinalityLimit: number;
}

/** Returns the source with this name, creating it on first use. */
export async function ensureSource(
  name: string,
  kind: SourceKind,
  config: Record<string, unknown> = {},
  cardinalityLimit?: number,
): Promise<SourceRow> {
  const res = await pool().query(
    `INSERT INTO source (name, kind, config, cardinality_limit, updated_at)
     VALUES ($1, $2::"SourceKind", $3::jsonb, COALESCE($4, 10000), now())
     ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
     RETURNING id, name, kind::text AS kind, enabled, config, cardinality_limit`,
    [name, kind, JSON.stringify(config), cardinalityLimit ?? null],
  );
  return toSource(res.rows[0]);
}

export async function updateSourceConfig(
  id: number,
  patch: { config?: Record<string, unknown>; enabled?: boolean; cardinalityLimit?: number },
): Promise<void> {
  await pool().query(
    `UPDATE source SET config = COALESCE($2::jsonb, config), enabled = COALESCE($3, enabled),
       cardinality_limit = COALESCE($4, cardinality_limit), updated_at = now() WHERE id = $1`,
    [id, patch.config ? JSON.stringify(patch.config) : null, patch.enabled ?? null, patch.cardinalityLimit ?? null],
  );
}

export async function listSources(): Promise<(SourceRow & { streamCount: number; lastSampleAtMs: number | null; archivedAtMs: number | null })[]> {
  const res = await pool().query(
    `SELECT s.id, s.name, s.kind::text AS kind, s.enabled, s.config, s.cardinality_limit,
            (SELECT count(*)::int FROM stream WHERE source_id = s.id) AS stream_count,
            (SELECT (extract(epoch FROM max(last_sample_at)) * 1000)::float8 FROM stream WHERE source_id = s.id) AS last_sample_ms,
            (extract(epoch FROM s.archived_at) * 1000)::float8 AS archived_ms
     FROM source s ORDER BY s.name`,
  );
  return res.rows.map((r) => ({ ...toSource(r), streamCount: r.stream_count as number, lastSampleAtMs: (r.last_sample_ms as number | null) ?? null, archivedAtMs: (r.archived_ms as number | null) ?? null }));
}

export async function getSourceByName(name: string): Promise<SourceRow | null> {
  const res = await pool().query(
    `SELECT id, name, kind::text AS kind, enabled, config, cardinality_limit FROM source WHERE name = $1`,
    [name],
  );
  return res.rows[0] ? toSource(res.rows[0]) : null;
}

function toSource(r: Record<string, unknown> | undefined): SourceRow {
  if (!r) throw new Error("source row missing");
  return {
    id: r.id as number,
    name: r.name as string,
    kind: r.kind as SourceKind,
    enabled: r.enabled as boolean,
    config: (r.config ?? {}) as Record<string, unknown>,
    cardinalityLimit: r.cardinality_limit as number,
  };
}
