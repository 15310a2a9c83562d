import type { TConfigScope, TDetectorSettings } from "@/lib/config/settings";
import type { PoolClient } from "pg";
import { pool } from "../db";

export interface ConfigRow {
  id: number;
  scope: TConfigScope;
  scopeRef: string;
  settings: TDetectorSettings;
  version: number;
  managedBy: "ui" | "file";
  updatedBy: string;
  updatedAtMs: number;
}

export interface ConfigVersionRow {
  id: number;
  scope: TConfigScope;
  scopeRef: string;
  version: number;
  settings: TDetectorSettings;
  author: string;
  note: string | null;
  createdAtMs: number;
}

const CONFIG_COLS = `id, scope::text AS scope, scope_ref, settings, version, managed_by, updated_by,
  (extract(epoch FROM updated_at) * 1000)::float8 AS updated_ms`;

function toConfig(r: Record<string, unknown>): ConfigRow {
  return {
    id: r.id as number,
    scope: r.scope as TConfigScope,
    scopeRef: r.scope_ref as string,
    settings: (r.settings ?? {}) as TDetectorSettings,
    version: r.version as number,
    managedBy: r.managed_by === "file" ? "file" : "ui",
    updatedBy: r.updated_by as string,
    updatedAtMs: r.updated_ms as number,
  };
}

export async function listConfigs(): Promise<ConfigRow[]> {
  const res = await pool().query(`SELECT ${CONFIG_COLS} FROM detector_config ORDER BY scope, scope_ref`);
  return res.rows.map(toConfig);
}

export async function getConfig(scope: TConfigScope, scopeRef: string): Promise<ConfigRow | null> {
  const res = await pool().query(`SELECT ${CONFIG_COLS} FROM detector_config WHERE scope = $1::"ConfigScope" AND scope_ref = $2`, [
    scope,
    scopeRef,
  ]);
  return res.rows[0] ? toConfig(res.rows[0]) : null;
}

/** Fingerprint that changes whenever any configuration changes (cheap change detection). */
export async function configFingerprint(): Promise<string> {
  const res = await pool().query<{ f: string | null }>(
    `SELECT count(*)::text || ':' || coalesce(sum(version), 0)::text || ':' || coalesce(max(updated_at)::text, '') AS f FROM detector_config`,
  );
  return res.rows[0]?.f ?? "";
}

export interface SaveConfigInput {
  scope: TConfigScope;
  scopeRef: string;
  settings: TDetectorSettings;
  author: string;
  note?: string | null;
  managedBy: "ui" | "file";
  /** Optimistic concurrency: the version the editor started from (0 = new). */
  expectedVersion?: number;
}

export type SaveConfigResult = { ok: true; row: ConfigRow } | { ok: false; reason: "conflict"; current: ConfigRow | null };

/** Writes the new current settings and a history row in one transaction. */
export async function saveConfig(i: SaveConfigInput): Promise<SaveConfigResult> {
  const client = await pool().connect();
  try {
    await client.query("BEGIN");
    const cur = await client.query(
      `SELECT ${CONFIG_COLS} FROM detector_config WHERE scope = $1::"ConfigScope" AND scope_ref = $2 FOR UPDATE`,
      [i.scope, i.scopeRef],
    );
    const current = cur.rows[0] ? toConfig(cur.rows[0]) : null;
    if (i.expectedVersion !== undefined && (current?.version ?? 0) !== i.expectedVersion) {
      await client.query("ROLLBACK");
      return { ok: false, reason: "conflict", current };
    }
    const version = (current?.version ?? (await maxVersion(client, i.scope, i.scopeRef))) + 1;
    const res = await client.query(
      `INSERT INTO detector_config (scope, scope_ref, settings, version, managed_by, updated_by, updated_at)
       VALUES ($1::"ConfigScope", $2, $3::jsonb, $4, $5, $6, now())
       ON CONFLICT (scope, scope_ref) DO UPDATE SET settings = EXCLUDED.settings, version = EXCLUDED.version,
         managed_by = EXCLUDED.managed_by, updated_by = EXCLUDED.updated_by, updated_at = now()
       RETURNING ${CONFIG_COLS}`,
      [i.scope, i.scopeRef, JSON.stringify(i.settings), version, i.managedBy, i.author],
    );
    await client.query(
      `INSERT INTO detector_config_version (scope, scope_ref, version, settings, author, note)
       VALUES ($1::"ConfigScope", $2, $3, $4::jsonb, $5, $6)`,
      [i.scope, i.scopeRef, version, JSON.stringify(i.settings), i.author, i.note ?? null],
    );
    await client.query("COMMIT");
    return { ok: true, row: toConfig(res.rows[0]) };
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

async function maxVersion(client: PoolClient, scope: string, ref: string): Promise<number> {
  const res = await client.query<{ v: number | null }>(
    `SELECT max(version) AS v FROM detector_config_version WHERE scope = $1::"ConfigScope" AND scope_ref = $2`,
    [scope, ref],
  );
  return res.rows[0]?.v ?? 0;
}

/** Removes a scope's override (history is kept, with a row that records the removal). */
export async function deleteConfig(scope: TConfigScope, scopeRef: string, author: string, note: string): Promise<boolean> {
  const client = await pool().connect();
  try {
    await client.query("BEGIN");
    const res = await client.query<{ version: number }>(
      `DELETE FROM detector_config WHERE scope = $1::"ConfigScope" AND scope_ref = $2 RETURNING version`,
      [scope, scopeRef],
    );
    const v = res.rows[0]?.version;
    if (v !== undefined) {
      await client.query(
        `INSERT INTO detector_config_version (scope, scope_ref, version, settings, author, note)
         VALUES ($1::"ConfigScope", $2, $3, '{}'::jsonb, $4, $5)`,
        [scope, scopeRef, v + 1, author, note],
      );
    }
    await client.query("COMMIT");
    return v !== undefined;
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

const VERSION_COLS = `id, scope::text AS scope, scope_ref, version, settings, author, note,
  (extract(epoch FROM created_at) * 1000)::float8 AS created_ms`;

function toVersion(r: Record<string, unknown>): ConfigVersionRow {
  return {
    id: r.id as number,
    scope: r.scope as TConfigScope,
    scopeRef: r.scope_ref as string,
    version: r.version as number,
    settings: (r.settings ?? {}) as TDetectorSettings,
    author: r.author as string,
    note: (r.note as string | null) ?? null,
    createdAtMs: r.created_ms as number,
  };
}

export async function listConfigVersions(scope: TConfigScope, scopeRef: string, limit = 50): Promise<ConfigVersionRow[]> {
  const res = await pool().query(
    `SELECT ${VERSION_COLS} FROM detector_config_version WHERE scope = $1::"ConfigScope" AND scope_ref = $2
     ORDER BY version DESC, id DESC LIMIT $3`,
    [scope, scopeRef, limit],
  );
  return res.rows.map(toVersion);
}

export async function listRecentVersions(limit = 50): Promise<ConfigVersionRow[]> {
  const res = await pool().query(`SELECT ${VERSION_COLS} FROM detector_config_version ORDER BY id DESC LIMIT $1`, [limit]);
  return res.rows.map(toVersion);
}

export async function getConfigVersion(id: number): Promise<ConfigVersionRow | null> {
  const res = await pool().query(`SELECT ${VERSION_COLS} FROM detector_config_version WHERE id = $1`, [id]);
  return res.rows[0] ? toVersion(res.rows[0]) : null;
}

export interface StreamScopeRow {
  id: number;
  sourceId: number;
  sourceName: string;
  group: string | null;
  metric: string;
  key: string;
  labels: Record<string, string>;
  /** the stream or its source is archived */
  archived: boolean;
}

/** The scope coordinates of every stream (what config resolution needs, nothing more). */
export async function listStreamScopes(filter: { ids?: number[]; sourceId?: number; group?: string; limit?: number } = {}): Promise<StreamScopeRow[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.ids) {
    args.push(filter.ids);
    where.push(`s.id = ANY($${args.length}::int[])`);
  }
  if (filter.sourceId !== undefined) {
    args.push(filter.sourceId);
    where.push(`s.source_id = $${args.length}`);
  }
  if (filter.group !== undefined) {
    args.push(filter.group);
    where.push(`s."group" = $${args.length}`);
  }
  args.push(filter.limit ?? 1_000_000);
  const res = await pool().query(
    `SELECT s.id, s.source_id, src.name AS source_name, s."group", s.metric, s.key, s.labels,
            (s.archived_at IS NOT NULL OR src.archived_at IS NOT NULL) AS archived
     FROM stream s JOIN source src ON src.id = s.source_id ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY s.id LIMIT $${args.length}`,
    args,
  );
  return res.rows.map((r) => ({
    id: r.id as number,
    sourceId: r.source_id as number,
    sourceName: r.source_name as string,
    group: (r.group as string | null) ?? null,
    metric: r.metric as string,
    key: r.key as string,
    labels: (r.labels ?? {}) as Record<string, string>,
    archived: r.archived === true,
  }));
}

/** Distinct stream groups with their stream counts. */
export async function listGroups(): Promise<{ group: string; streams: number }[]> {
  const res = await pool().query<{ group: string; n: number }>(
    `SELECT "group", count(*)::int AS n FROM stream WHERE "group" IS NOT NULL GROUP BY 1 ORDER BY 1`,
  );
  return res.rows.map((r) => ({ group: r.group, streams: r.n }));
}

/** Changes when streams are added or removed (so the worker re-resolves inherited settings). */
export async function streamsFingerprint(): Promise<string> {
  // archiving changes what a stream may raise: the worker reloads its settings then too
  const res = await pool().query<{ f: string }>(
    `SELECT count(*)::text || ':' || coalesce(max(id), 0)::text || ':' || count(archived_at)::text || ':' || coalesce(max(archived_at)::text, '')
            || ':' || (SELECT count(archived_at)::text || coalesce(max(archived_at)::text, '') FROM source) AS f FROM stream`,
  );
  return res.rows[0]?.f ?? "";
}
