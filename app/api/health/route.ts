import { resolvePrincipal } from "@/server/services/auth/principal";
import { healthReport } from "@/server/services/health/health-service";

export const dynamic = "force-dynamic";

/**
 * Liveness for load balancers and supervisors answers anyone, but only with `{ ok }` and the
 * status code (200 / 503); the full report (database, worker, lag) needs a session or a token
 * with the read scope.
 */
export async function GET(req: Request) {
  const report = await healthReport();
  const status = report.database.ok ? 200 : 503;
  const principal = await resolvePrincipal(req.headers).catch(() => null);
  const canRead = principal !== null && (principal.kind === "user" || principal.scopes.includes("read") || principal.scopes.includes("admin"));
  return Response.json(canRead ? report : { ok: report.database.ok }, { status });
}
