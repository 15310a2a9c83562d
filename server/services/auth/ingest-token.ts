import crypto from "node:crypto";
import { AppError } from "@/lib/errors/app-error";
import { env } from "../../env";
import { insertSettingIfAbsent, type Queryable } from "../../repos/settings-repo";

/**
 * The bearer token that write endpoints (remote_write, OTLP, CSV import) require.
 * OMEN_INGEST_TOKEN wins when set; otherwise a random token is generated on first start and kept
 * in the `setting` table, so web, worker and restarts agree on it.
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

async function currentToken(): Promise<string> {
  if (!cached || Date.now() - cached.atMs > 60_000) cached = { token: (await ensureIngestToken()).token, atMs: Date.now() };
  return cached.token;
}

function digest(s: string): Buffer {
  return crypto.createHash("sha256").update(s).digest();
}

/** Constant-time comparison (hashing first makes lengths equal and hides the token's length). */
export function tokensMatch(given: string, expected: string): boolean {
  return crypto.timingSafeEqual(digest(given), digest(expected));
}

/**
 * Checks the Authorization header's value, `Bearer <token>` (also `Basic` with the token as
 * password, which some senders only support). Throws AppError UNAUTHORIZED with a hint otherwise.
 */
export async function requireIngestToken(authorization: string | null | undefined): Promise<void> {
  const auth = authorization ?? "";
  let given: string | undefined;
  const bearer = /^Bearer\s+(.+)$/i.exec(auth);
  if (bearer) given = bearer[1]!.trim();
  const basic = /^Basic\s+(.+)$/i.exec(auth);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
    given = decoded.slice(decoded.indexOf(":") + 1);
  }
  if (!given) {
    throw new AppError(
      "UNAUTHORIZED",
      "Missing ingest token: send `Authorization: Bearer <token>`. The token is printed when Omen first starts and shown on Settings → Sources (or set OMEN_INGEST_TOKEN).",
    );
  }
  if (!tokensMatch(given, await currentToken())) {
    throw new AppError("UNAUTHORIZED", "Invalid ingest token. Copy it from Settings → Sources, or check OMEN_INGEST_TOKEN.");
  }
}

/** For tests: forget the cached token. */
export function resetIngestTokenCache(): void {
  cached = undefined;
}
