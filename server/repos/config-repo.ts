import type { PoolClient } from "pg";
import { z } from "zod";
import { ZConfigScope, ZDetectorSettings, type TConfigScope, type TDetectorSettings } from "@/lib/config/settings";
import { ZStreamKind, type TStreamKind } from "@/lib/schemas/stream";
import { db, pool } from "../db";
import type { DetectorConfigVersion } from "../generated/prisma/client";
import { queryRow, queryRows, ZMs, ZStringMap } from "./rows";

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

// Read with pg, not Prisma: saveConfig reads the current row under FOR UPDATE in its transaction.
const CONFIG_COLS = `id, scope::text AS scope, scope_ref, settings, version, managed_by, updated_by,
  (extract(epoch FROM updated_at) * 1000)::float8 AS updated_ms`;

const ZConfigRow = z
  .object({
    id: z.number(),
    scope: ZConfigScope,
    scope_ref: z.string(),
    // stored only after the same schema validated it (config-service, config-file)
    settings: ZDetectorSettings,
    version: z.number(),
    managed_by: z.string(),
    updated_by: z.string(),
    updated_ms: ZMs,
  })
  .transform(
    (r): ConfigRow => ({
      id: r.id,
      scope: r.scope,
      scopeRef: r.scope_ref,
      settings: r.settings,
      version: r.version,
      managedBy: r.managed_by === "file" ? "file" : "ui",
      updatedBy: r.updated_by,
      updatedAtMs: r.updated_ms,
    }),
  );

export async function listConfigs(): Promise<ConfigRow[]> {
  return queryRows(pool(), ZConfigRow, `SELECT ${CONFIG_COLS} FROM detector_config ORDER BY scope, scope_ref`);
}

export async function getConfig(scope: TConfigScope, scopeRef: string): Promise<ConfigRow | null> {
  return queryRow(pool(), ZConfigRow, `SELECT ${CONFIG_COLS} FROM detector_config WHERE scope = $1::"ConfigScope" AND scope_ref = $2`, [scope, scopeRef]);
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
    const current = await queryRow(client, ZConfigRow, `SELECT ${CONFIG_COLS} FROM detector_config WHERE scope = $1::"ConfigScope" AND scope_ref = $2 FOR UPDATE`, [
      i.scope,
      i.scopeRef,
    ]);
    if (i.expectedVersion !== undefined && (current?.version ?? 0) !== i.expectedVersion) {
      await client.query("ROLLBACK");
      return { ok: false, reason: "conflict", current };
    }
    const version = (current?.version ?? (await maxVersion(client, i.scope, i.scopeRef))) + 1;
    const [row] = await queryRows(
      client,
      ZConfigRow,
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
    return { ok: true, row: row! };
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

function toVersion(r: DetectorConfigVersion): ConfigVersionRow {
  return {
    id: r.id,
    scope: r.scope,
    scopeRef: r.scopeRef,
    version: r.version,
    settings: ZDetectorSettings.parse(r.settings),
    author: r.author,
    note: r.note,
    createdAtMs: r.createdAt.getTime(),
  };
}

export async function listConfigVersions(scope: TConfigScope, scopeRef: string, limit = 50): Promise<ConfigVersionRow[]> {
  const rows = await db().detectorConfigVersion.findMany({ where: { scope, scopeRef }, orderBy: [{ version: "desc" }, { id: "desc" }], take: limit });
  return rows.map(toVersion);
}

export async function listRecentVersions(limit = 50): Promise<ConfigVersionRow[]> {
  const rows = await db().detectorConfigVersion.findMany({ orderBy: { id: "desc" }, take: limit });
  return rows.map(toVersion);
}

export async function getConfigVersion(id: number): Promise<ConfigVersionRow | null> {
  const r = await db().detectorConfigVersion.findUnique({ where: { id } });
  return r ? toVersion(r) : null;
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
  kind: TStreamKind;
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
  const rows = await queryRows(
    pool(),
    z.object({ id: z.number(), source_id: z.number(), source_name: z.string(), group: z.string().nullable(), metric: z.string(), key: z.string(), labels: ZStringMap, archived: z.boolean(), kind: ZStreamKind }),
    `SELECT s.id, s.source_id, src.name AS source_name, s."group", s.metric, s.key, s.labels,
            (s.archived_at IS NOT NULL OR src.archived_at IS NOT NULL) AS archived, s.kind::text AS kind
     FROM stream s JOIN source src ON src.id = s.source_id ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY s.id LIMIT $${args.length}`,
    args,
  );
  return rows.map((r) => ({ id: r.id, sourceId: r.source_id, sourceName: r.source_name, group: r.group, metric: r.metric, key: r.key, labels: r.labels, archived: r.archived, kind: r.kind }));
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
  // archiving changes what a stream may raise, and a kind how it is scored: the worker reloads
  // its settings then too (the id sums per kind change whenever any stream changes kind)
  const res = await pool().query<{ f: string }>(
    `SELECT count(*)::text || ':' || coalesce(max(id), 0)::text || ':' || count(archived_at)::text || ':' || coalesce(max(archived_at)::text, '')
            || ':' || coalesce(sum(id) FILTER (WHERE kind = 'counter'), 0)::text || ':' || coalesce(sum(id) FILTER (WHERE kind = 'event'), 0)::text
            || ':' || (SELECT count(archived_at)::text || coalesce(max(archived_at)::text, '') FROM source) AS f FROM stream`,
  );
  return res.rows[0]?.f ?? "";
}
