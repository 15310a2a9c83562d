import "server-only";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError, z } from "zod";
import { roleAtLeast, type TRole } from "@/lib/auth/roles";
import { isAppError, type AppErrorCode } from "@/lib/errors/app-error";
import { zodMessage } from "@/lib/errors/zod-message";
import { actorOf, resolvePrincipal, type Principal } from "../services/auth/principal";

export interface TrpcContext {
  headers: Headers;
  /** The signed-in user or API token; null for anonymous callers (every procedure refuses them). */
  principal: Principal | null;
}

export async function createTrpcContext(opts: { headers: Headers }): Promise<TrpcContext> {
  return { headers: opts.headers, principal: await resolvePrincipal(opts.headers) };
}

const trpcCode: Record<AppErrorCode, TRPCError["code"]> = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

/** `meta.role`: the role a procedure needs (set by the builders; the auth matrix test reads it). */
export interface TrpcMeta {
  role: TRole;
}

const t = initTRPC.context<TrpcContext>().meta<TrpcMeta>().create({
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

/**
 * Every procedure is built from one of the role builders below: there is deliberately no public
 * builder. A caller without a session or token gets UNAUTHORIZED (401); one whose role (or
 * token scope: read → viewer, admin → admin) is too low gets FORBIDDEN (403). `ctx.actor` is
 * the signed-in user's name (or `token:<name>`): the author recorded in histories.
 */
function requireRole(need: TRole) {
  return t.middleware(({ ctx, next }) => {
    const p = ctx.principal;
    if (!p) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in, or send an API token (Authorization: Bearer <token>)." });
    if (!p.role || !roleAtLeast(p.role, need)) {
      const who = p.kind === "user" ? `your role is ${p.role}` : `the token "${p.name}" has ${p.scopes.join(", ")}`;
      throw new TRPCError({ code: "FORBIDDEN", message: `This needs the ${need} role; ${who}.` });
    }
    return next({ ctx: { ...ctx, principal: p, actor: actorOf(p), role: p.role } });
  });
}

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
/** Reads: any signed-in user, tokens with the read or admin scope. */
export const viewerProcedure = t.procedure.meta({ role: "viewer" }).use(appErrors).use(requireRole("viewer"));
/** Triage, labels, comments, thresholds (detector settings), snapshots. */
export const operatorProcedure = t.procedure.meta({ role: "operator" }).use(appErrors).use(requireRole("operator"));
/** Sources, alert channels, API tokens, users, and every request Omen makes to other hosts. */
export const adminProcedure = t.procedure.meta({ role: "admin" }).use(appErrors).use(requireRole("admin"));

