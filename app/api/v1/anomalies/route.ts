import { z } from "zod";
import { AppError } from "@/lib/errors/app-error";
import { ZCount, ZId } from "@/lib/schemas/ids";
import { ZAnomalyStatus, ZSeverity } from "@/lib/schemas/stream";
import { errorResponse } from "@/server/http/json";
import { requireScope } from "@/server/services/auth/principal";
import { findAnomalies } from "@/server/services/anomalies/anomaly-service";

export const dynamic = "force-dynamic";

const ZQuery = z.object({
  status: ZAnomalyStatus.optional(),
  severity: ZSeverity.optional(),
  streamId: z.coerce.number().pipe(ZId).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().pipe(ZCount).default(0),
});

export async function GET(req: Request) {
  try {
    await requireScope(req.headers, "read");
    const parsed = ZQuery.safeParse(Object.fromEntries(new URL(req.url).searchParams));
    if (!parsed.success) throw new AppError("BAD_REQUEST", `Invalid query: ${z.prettifyError(parsed.error)}`);
    const { status, severity, ...rest } = parsed.data;
    const { rows, total } = await findAnomalies({
      ...rest,
      status: status ? [status] : undefined,
      severity: severity ? [severity] : undefined,
    });
    return Response.json({ anomalies: rows, total });
  } catch (e) {
    return errorResponse(e);
  }
}
