import { errorResponse } from "@/server/http/json";
import { renderMetrics } from "@/server/services/export/metrics-export";

export const dynamic = "force-dynamic";

/** Prometheus scrape endpoint: `scrape_configs: [{ job_name: omen, static_configs: [{ targets: ["omen:3000"] }] }]`. */
export async function GET() {
  try {
    const { contentType, body } = await renderMetrics();
    return new Response(body, { headers: { "content-type": contentType } });
  } catch (e) {
    return errorResponse(e);
  }
}
