import "server-only";
import { isAppError } from "@/lib/errors/app-error";

/** JSON error body shared by every plain HTTP route: `{ error, details? }`. */
export function errorResponse(e: unknown, headers: Record<string, string> = {}): Response {
  if (isAppError(e)) {
    return Response.json({ error: e.message, ...(e.details ? { details: e.details } : {}) }, { status: e.status, headers });
  }
  console.error(e);
  return Response.json({ error: "Internal error; see the Omen server log." }, { status: 500, headers });
}
