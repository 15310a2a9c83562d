import { healthReply } from "@/server/http/health-handler";
import { toResponse } from "@/server/http/reply";

export const dynamic = "force-dynamic";

export async function GET() {
  return toResponse(await healthReply());
}
