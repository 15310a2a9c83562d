import { z } from "zod";
import { ZPassword, ZUsername } from "@/lib/auth/roles";
import { AppError } from "@/lib/errors/app-error";
import { errorResponse } from "@/server/http/json";
import { completeSetup, setupTokenValid } from "@/server/services/auth/users-service";

export const dynamic = "force-dynamic";

const ZBody = z.object({ token: z.string().min(1).max(200), username: ZUsername, password: ZPassword });

/** Whether a set-up link still works (the set-up page asks before showing its form). */
export async function GET(req: Request) {
  try {
    const token = new URL(req.url).searchParams.get("token") ?? "";
    return Response.json({ valid: token.length > 0 && token.length <= 200 && (await setupTokenValid(token)) });
  } catch (e) {
    return errorResponse(e);
  }
}

/** The one-time set-up link's form posts here (public: the link's secret is the credential). */
export async function POST(req: Request) {
  try {
    const parsed = ZBody.safeParse(await req.json().catch(() => null));
    if (!parsed.success) throw new AppError("BAD_REQUEST", `Invalid set-up form: ${z.prettifyError(parsed.error)}`);
    await completeSetup(parsed.data.token, parsed.data.username, parsed.data.password);
    return Response.json({ ok: true });
  } catch (e) {
    return errorResponse(e);
  }
}
