import { healthReport } from "@/server/services/health/health-service";

export const dynamic = "force-dynamic";

export async function GET() {
  const report = await healthReport();
  return Response.json(report, { status: report.database.ok ? 200 : 503 });
}
