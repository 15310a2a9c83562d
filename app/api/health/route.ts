import { healthReply } from "@/server/http/health-handler";
import { toResponse } from "@/server/http/reply";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  return toResponse(await healthReply(req.headers));
}
