import { errorResponse } from "@/server/http/json";
import { requireScope } from "@/server/services/auth/principal";
import { renderMetrics } from "@/server/services/export/metrics-export";

export const dynamic = "force-dynamic";

/**
 * Prometheus scrape endpoint (needs a token with the read scope):
 * `scrape_configs: [{ job_name: omen, authorization: { credentials: <token> }, static_configs: [{ targets: ["omen:3000"] }] }]`.
 */
export async function GET(req: Request) {
  try {
    await requireScope(req.headers, "read");
    const { contentType, body } = await renderMetrics();
    return new Response(body, { headers: { "content-type": contentType } });
  } catch (e) {
    return errorResponse(e);
  }
}
