import "server-only";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError, z } from "zod";
import { isAppError, type AppErrorCode } from "@/lib/errors/app-error";
import { zodMessage } from "@/lib/errors/zod-message";

export interface TrpcContext {
  headers: Headers;
  /** Who performed a change (for config versions and feedback); a header or "anonymous". */
  actor: string;
}

export function createTrpcContext(opts: { headers: Headers }): TrpcContext {
  const actor = opts.headers.get("x-omen-user")?.slice(0, 80) || "anonymous";
  return { headers: opts.headers, actor };
}

const trpcCode: Record<AppErrorCode, TRPCError["code"]> = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

const t = initTRPC.context<TrpcContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    return {
      ...shape,
      // Input errors read as sentences in the UI, not as the zod issue JSON.
      message: error.cause instanceof ZodError ? zodMessage(error.cause) : shape.message,
      data: {
        ...shape.data,
        zodError: error.cause instanceof ZodError ? z.flattenError(error.cause) : null,
      },
    };
  },
});

/** Maps the services' AppError to tRPC errors in one place. */
const appErrors = t.middleware(async ({ next }) => {
  const res = await next();
  if (!res.ok && isAppError(res.error.cause)) {
    const cause = res.error.cause;
    throw new TRPCError({ code: trpcCode[cause.code], message: cause.message, cause });
  }
  return res;
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(appErrors);
