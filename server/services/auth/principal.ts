import { roleOfScopes, ZRole, type TRole, type TScope } from "@/lib/auth/roles";
import { AppError } from "@/lib/errors/app-error";
import { auth } from "./auth";
import { bearerSecret, verifyTokenSecret } from "./api-tokens";

/** Who is calling: a signed-in user (session cookie) or an API token (Authorization header). */
export type Principal =
  | { kind: "user"; userId: string; username: string; role: TRole }
  | { kind: "token"; tokenId: number | string; name: string; scopes: TScope[]; role: TRole | undefined };

/** The name recorded as the author of changes (configuration history, labels, comments). */
export function actorOf(p: Principal): string {
  return p.kind === "user" ? p.username : `token:${p.name}`;
}

export async function resolvePrincipal(headers: Headers): Promise<Principal | null> {
  const secret = bearerSecret(headers.get("authorization"));
  if (secret) {
    const t = await verifyTokenSecret(secret);
    return t ? { kind: "token", tokenId: t.id, name: t.name, scopes: t.scopes, role: roleOfScopes(t.scopes) } : null;
  }
  if (!headers.get("cookie")) return null;
  const session = await auth().api.getSession({ headers });
  if (!session) return null;
  const user = session.user as { id: string; name: string; username?: string | null; role?: string | null };
  const role = ZRole.safeParse(user.role);
  return { kind: "user", userId: user.id, username: user.username ?? user.name, role: role.success ? role.data : "viewer" };
}

/** The role a principal acts with (tokens: admin scope → admin, read → viewer). */
export function roleOf(p: Principal): TRole | undefined {
  return p.role;
}

export function hasScope(p: Principal, scope: TScope): boolean {
  if (p.kind === "user") return scope === "read" || p.role === "admin";
  return p.scopes.includes(scope) || p.scopes.includes("admin");
}

/** For HTTP endpoints: a principal allowed `scope`, else AppError UNAUTHORIZED (none) or FORBIDDEN. */
export async function requireScope(headers: Headers, scope: TScope): Promise<Principal> {
  const p = await resolvePrincipal(headers);
  if (!p) {
    throw new AppError(
      "UNAUTHORIZED",
      "Sign in, or send `Authorization: Bearer <token>` with an API token (Settings → API tokens).",
    );
  }
  if (!hasScope(p, scope)) throw new AppError("FORBIDDEN", `This needs the ${scope} scope; ${p.kind === "token" ? `the token "${p.name}" has ${p.scopes.join(", ")}` : `your role is ${p.role}`}.`);
  return p;
}
