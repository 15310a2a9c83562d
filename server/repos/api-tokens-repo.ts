import { z } from "zod";
import { ZScope, type TScope } from "@/lib/auth/roles";
import { db } from "../db";
import type { ApiToken } from "../generated/prisma/client";

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

/** The column is text[]; Omen writes only its scopes (a stray one fails loudly here). */
const ZScopes = z.array(ZScope);

function toRow(r: ApiToken): ApiTokenRow {
  return {
    id: r.id,
    name: r.name,
    scopes: ZScopes.parse(r.scopes),
    prefix: r.prefix,
    createdBy: r.createdBy,
    createdAtMs: r.createdAt.getTime(),
    lastUsedAtMs: r.lastUsedAt?.getTime() ?? null,
    revokedAtMs: r.revokedAt?.getTime() ?? null,
  };
}

export async function insertApiToken(t: { name: string; scopes: TScope[]; tokenHash: string; prefix: string; createdBy: string }): Promise<ApiTokenRow> {
  return toRow(await db().apiToken.create({ data: t }));
}

export async function listApiTokens(): Promise<ApiTokenRow[]> {
  const rows = await db().apiToken.findMany({ orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
  // active tokens first (a stable sort keeps the newest first within each part)
  return rows.sort((a, b) => Number(a.revokedAt !== null) - Number(b.revokedAt !== null)).map(toRow);
}

export async function findActiveApiToken(tokenHash: string): Promise<ApiTokenRow | undefined> {
  const r = await db().apiToken.findFirst({ where: { tokenHash, revokedAt: null } });
  return r ? toRow(r) : undefined;
}

/** Revokes a token; false when it does not exist or was revoked already. */
export async function revokeApiToken(id: number): Promise<boolean> {
  const res = await db().apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  return res.count > 0;
}

/** Gives an active token a new secret (same name and scopes); undefined when not active. */
export async function replaceApiTokenSecret(id: number, tokenHash: string, prefix: string): Promise<ApiTokenRow | undefined> {
  const res = await db().apiToken.updateManyAndReturn({ where: { id, revokedAt: null }, data: { tokenHash, prefix, lastUsedAt: null } });
  return res[0] ? toRow(res[0]) : undefined;
}

export async function touchApiTokens(ids: number[]): Promise<void> {
  if (ids.length) await db().apiToken.updateMany({ where: { id: { in: ids } }, data: { lastUsedAt: new Date() } });
}
