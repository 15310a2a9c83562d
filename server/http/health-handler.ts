import { healthReport } from "../services/health/health-service";
import { jsonReply, type Reply } from "./reply";

/**
 * GET /api/health: the health report; HTTP 503 while the database is unreachable (the body's
 * `ok` also covers the worker). Served by the custom web server without Next (pollers must get
 * an answer fast under heavy ingest) and by the app/ route under `next dev`.
 */
export async function healthReply(): Promise<Reply> {
  const report = await healthReport();
  return jsonReply(report.database.ok ? 200 : 503, report, { "cache-control": "no-store" });
}
