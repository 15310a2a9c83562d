import { AppError } from "@/lib/errors/app-error";
import { bearerSecret, verifyTokenSecret } from "./api-tokens";

/**
 * The check the write endpoints (remote_write, OTLP, CSV import) make: a token with the ingest
 * scope (or admin), sent as `Authorization: Bearer <token>` or as the password of Basic auth
 * (some senders only support that). Throws AppError UNAUTHORIZED / FORBIDDEN with a hint.
 */
export async function requireIngestToken(authorization: string | null | undefined): Promise<void> {
  const given = bearerSecret(authorization);
  if (!given) {
    throw new AppError(
      "UNAUTHORIZED",
      "Missing ingest token: send `Authorization: Bearer <token>`. Create a token with the ingest scope on Settings → API tokens (or use the one printed at first start, or OMEN_INGEST_TOKEN).",
    );
  }
  const identity = await verifyTokenSecret(given);
  if (!identity) throw new AppError("UNAUTHORIZED", "Invalid or revoked ingest token. Create one with the ingest scope on Settings → API tokens, or check OMEN_INGEST_TOKEN.");
  if (!identity.scopes.includes("ingest") && !identity.scopes.includes("admin")) {
    throw new AppError("FORBIDDEN", `The token "${identity.name}" has no ingest scope (it has ${identity.scopes.join(", ")}).`);
  }
}

