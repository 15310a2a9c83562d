import { z } from "zod";

/**
 * Roles of signed-in users and scopes of API tokens. Each role includes the ones before it:
 * viewer reads; operator also triages, labels and tunes thresholds; admin also manages sources,
 * alert channels, tokens and users.
 */
export const ROLES = ["viewer", "operator", "admin"] as const;
export const ZRole = z.enum(ROLES);
export type TRole = z.infer<typeof ZRole>;

/** ingest: the write endpoints; read: the read API, /metrics and tRPC queries; admin: everything. */
export const SCOPES = ["ingest", "read", "admin"] as const;
export const ZScope = z.enum(SCOPES);
export type TScope = z.infer<typeof ZScope>;

export function roleAtLeast(have: TRole, need: TRole): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** The role a token acts with on tRPC and the read API: admin → admin, read → viewer, ingest only → none. */
export function roleOfScopes(scopes: readonly TScope[]): TRole | undefined {
  if (scopes.includes("admin")) return "admin";
  if (scopes.includes("read")) return "viewer";
  return undefined;
}

export const USERNAME_RE = /^[a-zA-Z0-9_.-]+$/;
export const ZUsername = z.string().trim().min(2).max(40).regex(USERNAME_RE, "use letters, digits, _ . -");
export const ZPassword = z.string().min(8, "at least 8 characters").max(200);
