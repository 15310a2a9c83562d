import { z } from "zod";
import { AppError } from "@/lib/errors/app-error";
import { errorResponse } from "@/server/http/json";
import { requireScope } from "@/server/services/auth/principal";
import { predictedIncidents } from "@/server/services/predict/predict-service";

export const dynamic = "force-dynamic";

const ZQuery = z.object({
  minProbability: z.coerce.number().min(0).max(1).default(0.5),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Streams predicted to leave their normal range within the next 30 minutes. */
export async function GET(req: Request) {
  try {
    await requireScope(req.headers, "read");
    const parsed = ZQuery.safeParse(Object.fromEntries(new URL(req.url).searchParams));
    if (!parsed.success) throw new AppError("BAD_REQUEST", `Invalid query: ${z.prettifyError(parsed.error)}`);
    return Response.json({ predictions: await predictedIncidents(parsed.data.minProbability, parsed.data.limit) });
  } catch (e) {
    return errorResponse(e);
  }
}
