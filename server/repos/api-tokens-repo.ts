import type { TScope } from "@/lib/auth/roles";
import { pool } from "../db";

export interface ApiTokenRow {
  id: number;
  name: string;
  scopes: TScope[];
  prefix: string;
  createdBy: string;
  createdAtMs: number;
  lastUsedAtMs: number | null;
  revokedAtMs: number | null;
}

const COLS = `id, name, scopes, prefix, created_by,
  (extract(epoch FROM created_at) * 1000)::float8 AS created_ms,
  (extract(epoch FROM last_used_at) * 1000)::float8 AS used_ms,
  (extract(epoch FROM revoked_at) * 1000)::float8 AS revoked_ms`;

function toRow(r: Record<string, unknown>): ApiTokenRow {
  return {
    id: Number(r.id),
    name: String(r.name),
    scopes: (r.scopes as TScope[] | null) ?? [],
    prefix: String(r.prefix),
    createdBy: String(r.created_by),
    createdAtMs: Number(r.created_ms),
    lastUsedAtMs: r.used_ms === null ? null : Number(r.used_ms),
    revokedAtMs: r.revoked_ms === null ? null : Number(r.revoked_ms),
  };
}

export async function insertApiToken(t: { name: string; scopes: TScope[]; tokenHash: string; prefix: string; createdBy: string }): Promise<ApiTokenRow> {
  const res = await pool().query(
    `INSERT INTO api_token (name, scopes, token_hash, prefix, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLS}`,
    [t.name, t.scopes, t.tokenHash, t.prefix, t.createdBy],
  );
  return toRow(res.rows[0]!);
}

export async function listApiTokens(): Promise<ApiTokenRow[]> {
  const res = await pool().query(`SELECT ${COLS} FROM api_token ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC`);
  return res.rows.map(toRow);
}

export async function findActiveApiToken(tokenHash: string): Promise<ApiTokenRow | undefined> {
  const res = await pool().query(`SELECT ${COLS} FROM api_token WHERE token_hash = $1 AND revoked_at IS NULL`, [tokenHash]);
  return res.rows[0] ? toRow(res.rows[0]) : undefined;
}

/** Revokes a token; false when it does not exist or was revoked already. */
export async function revokeApiToken(id: number): Promise<boolean> {
  const res = await pool().query(`UPDATE api_token SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
  return (res.rowCount ?? 0) > 0;
}

/** Gives an active token a new secret (same name and scopes); undefined when not active. */
export async function replaceApiTokenSecret(id: number, tokenHash: string, prefix: string): Promise<ApiTokenRow | undefined> {
  const res = await pool().query(
    `UPDATE api_token SET token_hash = $2, prefix = $3, last_used_at = NULL WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLS}`,
    [id, tokenHash, prefix],
  );
  return res.rows[0] ? toRow(res.rows[0]) : undefined;
}

export async function touchApiTokens(ids: number[]): Promise<void> {
  if (ids.length) await pool().query(`UPDATE api_token SET last_used_at = now() WHERE id = ANY($1::int[])`, [ids]);
}
