import { z } from "zod";
import { ZPassword, ZRole, ZScope, ZUsername } from "@/lib/auth/roles";
import { ZId as ZTokenId } from "@/lib/schemas/ids";
import { apiTokenList, createApiToken, revokeToken, rotateToken } from "../../services/auth/api-tokens";
import { changeUserRole, createUser, removeUser, resetUserPassword, userList } from "../../services/auth/users-service";
import { adminProcedure, createTRPCRouter, viewerProcedure } from "../trpc";

const ZUserId = z.string().min(1).max(64);

/** Who is signed in, accounts and API tokens. */
export const accessRouter = createTRPCRouter({
  me: viewerProcedure.query(({ ctx }) => {
    const p = ctx.principal;
    return p.kind === "user" ? { kind: "user" as const, username: p.username, role: p.role } : { kind: "token" as const, username: `token:${p.name}`, role: ctx.role };
  }),
  users: adminProcedure.query(() => userList()),
  createUser: adminProcedure
    .input(z.object({ username: ZUsername, password: ZPassword, role: ZRole }))
    .mutation(({ input }) => createUser(input.username, input.password, input.role)),
  setRole: adminProcedure.input(z.object({ id: ZUserId, role: ZRole })).mutation(({ input }) => changeUserRole(input.id, input.role)),
  resetPassword: adminProcedure.input(z.object({ id: ZUserId, password: ZPassword })).mutation(({ input }) => resetUserPassword(input.id, input.password)),
  removeUser: adminProcedure
    .input(z.object({ id: ZUserId }))
    .mutation(({ input, ctx }) => removeUser(input.id, ctx.principal.kind === "user" ? ctx.principal.userId : undefined)),
  tokens: adminProcedure.query(() => apiTokenList()),
  createToken: adminProcedure
    .input(z.object({ name: z.string().trim().min(1).max(80), scopes: z.array(ZScope).min(1).max(3) }))
    .mutation(({ input, ctx }) => createApiToken(input.name, input.scopes, ctx.actor)),
  rotateToken: adminProcedure.input(z.object({ id: ZTokenId })).mutation(({ input }) => rotateToken(input.id)),
  revokeToken: adminProcedure.input(z.object({ id: ZTokenId })).mutation(({ input }) => revokeToken(input.id)),
});
