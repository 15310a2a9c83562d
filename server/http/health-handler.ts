import { resolvePrincipal } from "../services/auth/principal";
import { healthReport } from "../services/health/health-service";
import { jsonReply, type Reply } from "./reply";

/**
 * GET /api/health: the health report; HTTP 503 while the database is unreachable (the body's
 * `ok` also covers the worker). Served by the custom web server without Next (pollers must get
 * an answer fast under heavy ingest) and by the app/ route under `next dev`.
 * Liveness answers anyone, but only with `{ ok }` and the status code; the full report needs a
 * session or a token with the read scope.
 */
export async function healthReply(headers: Headers): Promise<Reply> {
  const report = await healthReport();
  const status = report.database.ok ? 200 : 503;
  const principal = await resolvePrincipal(headers).catch(() => null);
  const canRead = principal !== null && (principal.kind === "user" || principal.scopes.includes("read") || principal.scopes.includes("admin"));
  return jsonReply(status, canRead ? report : { ok: report.ok }, { "cache-control": "no-store" });
}
