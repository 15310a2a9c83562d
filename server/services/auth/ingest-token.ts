import crypto from "node:crypto";
import { env } from "../../env";
import { insertSettingIfAbsent, type Queryable } from "../../repos/settings-repo";

/**
 * The scripts' ingest token, accepted by the write endpoints beside API tokens with the ingest
 * scope (ingest-auth.ts). OMEN_INGEST_TOKEN wins when set; otherwise a random token is generated
 * on first start, printed once, and kept in the `setting` table, so web, worker and restarts agree.
 */
export const INGEST_TOKEN_KEY = "ingest_token";

export interface IngestToken {
  token: string;
  /** "env": OMEN_INGEST_TOKEN; "stored": generated earlier; "generated": created by this call. */
  origin: "env" | "stored" | "generated";
}

/** Returns the token, generating and storing one the first time (race-safe across processes). */
export async function ensureIngestToken(db?: Queryable, fromEnv = env().OMEN_INGEST_TOKEN): Promise<IngestToken> {
  if (fromEnv) return { token: fromEnv, origin: "env" };
  const candidate = `omen_${crypto.randomBytes(24).toString("base64url")}`;
  const row = await insertSettingIfAbsent(INGEST_TOKEN_KEY, candidate, db);
  return { token: row.value, origin: row.inserted ? "generated" : "stored" };
}

let cached: { token: string; atMs: number } | undefined;

/** The ingest token (OMEN_INGEST_TOKEN or the generated one), re-read at most once a minute. */
export async function currentIngestToken(): Promise<string> {
  if (!cached || Date.now() - cached.atMs > 60_000) cached = { token: (await ensureIngestToken()).token, atMs: Date.now() };
  return cached.token;
}

/** For tests: forget the cached token. */
export function resetIngestTokenCache(): void {
  cached = undefined;
}
