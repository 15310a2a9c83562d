import { z } from "zod";
import { ZCount } from "@/lib/schemas/ids";
import { AppError } from "@/lib/errors/app-error";
import { errorResponse } from "@/server/http/json";
import { requireScope } from "@/server/services/auth/principal";
import { findStreams } from "@/server/services/streams/stream-service";

export const dynamic = "force-dynamic";

const ZQuery = z.object({
  search: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  offset: z.coerce.number().pipe(ZCount).default(0),
});

export async function GET(req: Request) {
  try {
    await requireScope(req.headers, "read");
    const parsed = ZQuery.safeParse(Object.fromEntries(new URL(req.url).searchParams));
    if (!parsed.success) throw new AppError("BAD_REQUEST", `Invalid query: ${z.prettifyError(parsed.error)}`);
    const streams = await findStreams(parsed.data);
    return Response.json({ streams });
  } catch (e) {
    return errorResponse(e);
  }
}
