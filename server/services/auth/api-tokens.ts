import crypto from "node:crypto";
import { AppError } from "@/lib/errors/app-error";
import type { TScope } from "@/lib/auth/roles";
import { findActiveApiToken, insertApiToken, listApiTokens, replaceApiTokenSecret, revokeApiToken, touchApiTokens, type ApiTokenRow } from "../../repos/api-tokens-repo";
import { env } from "../../env";
import { currentIngestToken } from "./ingest-token";

/**
 * API tokens: `omen_<32 random bytes, base64url>`. Only the SHA-256 of a token is stored (a
 * 256-bit random secret needs no slow hash: guessing it is the attack, not cracking a leak).
 * Also accepted: OMEN_API_TOKEN (read), OMEN_INGEST_TOKEN or the ingest token generated at
 * first start (ingest).
 */
export interface TokenIdentity {
  /** Stored token id, or the env/generated token's name. */
  id: number | "env-api" | "env-ingest";
  name: string;
  scopes: TScope[];
}

export function hashToken(secret: string): string {
  return crypto.createHash("sha256").update(secret).digest("hex");
}

function newSecret(): { secret: string; prefix: string } {
  const secret = `omen_${crypto.randomBytes(32).toString("base64url")}`;
  return { secret, prefix: secret.slice(0, 10) };
}

function sameSecret(a: string, b: string): boolean {
  return crypto.timingSafeEqual(Buffer.from(hashToken(a), "hex"), Buffer.from(hashToken(b), "hex"));
}

export type TApiTokenView = ApiTokenRow;

export async function createApiToken(name: string, scopes: TScope[], actor: string): Promise<{ token: TApiTokenView; secret: string }> {
  const { secret, prefix } = newSecret();
  const token = await insertApiToken({ name, scopes: [...new Set(scopes)], tokenHash: hashToken(secret), prefix, createdBy: actor });
  return { token, secret };
}

export function apiTokenList(): Promise<TApiTokenView[]> {
  return listApiTokens();
}

export async function revokeToken(id: number): Promise<void> {
  if (!(await revokeApiToken(id))) throw new AppError("NOT_FOUND", `Token ${id} does not exist or is revoked already.`);
  forgetVerifiedTokens();
}

/** A new secret for the same token; the old secret stops working at once. */
export async function rotateToken(id: number): Promise<{ token: TApiTokenView; secret: string }> {
  const { secret, prefix } = newSecret();
  const token = await replaceApiTokenSecret(id, hashToken(secret), prefix);
  if (!token) throw new AppError("NOT_FOUND", `Token ${id} does not exist or is revoked.`);
  forgetVerifiedTokens();
  return { token, secret };
}

// Verified tokens are remembered briefly: remote_write sends many requests a second. Revoking or
// rotating in this process forgets them at once; other processes within CACHE_MS.
const CACHE_MS = 5_000;
// On globalThis: the custom server (remote_write, OTLP) and Next's bundle load this module
// separately in the same process, and a revoke through Next must reach the custom server's cache.
const g = globalThis as typeof globalThis & { __omenVerifiedTokens?: Map<string, { identity: TokenIdentity | null; atMs: number }> };
const verified = (g.__omenVerifiedTokens ??= new Map());
const used = new Set<number>();
let touchTimer: NodeJS.Timeout | undefined;

export function forgetVerifiedTokens(): void {
  verified.clear();
}

function noteUse(id: number): void {
  used.add(id);
  touchTimer ??= setTimeout(() => {
    touchTimer = undefined;
    const ids = [...used];
    used.clear();
    touchApiTokens(ids).catch((e: unknown) => console.error("[auth] could not record token use:", (e as Error).message));
  }, 10_000);
  touchTimer.unref?.();
}

/** The identity of a bearer secret, or null when no token matches. */
export async function verifyTokenSecret(secret: string): Promise<TokenIdentity | null> {
  const e = env();
  if (e.OMEN_API_TOKEN && sameSecret(secret, e.OMEN_API_TOKEN)) return { id: "env-api", name: "OMEN_API_TOKEN", scopes: ["read"] };
  const key = hashToken(secret);
  const hit = verified.get(key);
  if (hit && Date.now() - hit.atMs < CACHE_MS) {
    if (hit.identity && typeof hit.identity.id === "number") noteUse(hit.identity.id);
    return hit.identity;
  }
  let identity: TokenIdentity | null = null;
  const row = await findActiveApiToken(key);
  if (row) {
    identity = { id: row.id, name: row.name, scopes: row.scopes };
    noteUse(row.id);
  } else {
    if (sameSecret(secret, await currentIngestToken())) {
      identity = { id: "env-ingest", name: e.OMEN_INGEST_TOKEN ? "OMEN_INGEST_TOKEN" : "ingest token (first start)", scopes: ["ingest"] };
    }
  }
  if (verified.size > 10_000) verified.clear();
  verified.set(key, { identity, atMs: Date.now() });
  return identity;
}

/** The token in an Authorization header: `Bearer <token>`, or `Basic` with the token as password. */
export function bearerSecret(authorization: string | null | undefined): string | undefined {
  const auth = authorization ?? "";
  const bearer = /^Bearer\s+(.+)$/i.exec(auth);
  if (bearer) return bearer[1]!.trim() || undefined;
  const basic = /^Basic\s+(.+)$/i.exec(auth);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
    return decoded.slice(decoded.indexOf(":") + 1) || undefined;
  }
  return undefined;
}
