import { NextResponse, type NextRequest } from "next/server";
import { pathAccess } from "@/lib/auth/path-policy";
import { roleAtLeast } from "@/lib/auth/roles";
import { hasScope, resolvePrincipal } from "@/server/services/auth/principal";
import { guardRequest } from "@/server/services/auth/request-guard";

/**
 * Runs before every route Next serves (Node runtime): refuses foreign Host headers (DNS
 * rebinding) and cross-site mutations, then applies lib/auth/path-policy.ts: pages need a
 * signed-in user (else a redirect to /login), APIs a session or token (else 401/403).
 * The custom server (server/web/web-server.ts) makes the same Host/Origin check for the ingest
 * writes it answers without Next.
 */
function jsonError(status: 401 | 403, error: string): NextResponse {
  return NextResponse.json({ error }, { status, headers: { "cache-control": "no-store" } });
}

function forbiddenPage(message: string): NextResponse {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Omen: not allowed</title></head>
<body style="font-family:system-ui,sans-serif;margin:4rem auto;max-width:32rem"><h1>Not allowed</h1><p>${message}</p><p><a href="/">Back to the overview</a></p></body></html>`;
  return new NextResponse(html, { status: 403, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
}

export async function proxy(req: NextRequest): Promise<NextResponse> {
  const refused = guardRequest(req.method, req.headers);
  if (refused) return jsonError(refused.status, refused.message);

  const access = pathAccess(req.method, req.nextUrl.pathname);
  if (access.kind === "public" || access.kind === "ingest") return NextResponse.next();

  const principal = await resolvePrincipal(req.headers);
  if (access.kind === "trpc" || access.kind === "api") {
    if (!principal) return jsonError(401, "Sign in, or send `Authorization: Bearer <token>` with an API token (Settings → API tokens).");
    if (access.kind === "api" && !hasScope(principal, access.scope)) return jsonError(403, `This needs the ${access.scope} scope.`);
    return NextResponse.next();
  }
  if (!principal || principal.kind !== "user") {
    const login = new URL("/login", req.nextUrl);
    const next = req.nextUrl.pathname + req.nextUrl.search;
    if (next !== "/") login.searchParams.set("next", next);
    return NextResponse.redirect(login);
  }
  if (!roleAtLeast(principal.role, access.role)) return forbiddenPage(`This page is for ${access.role}s; you are signed in as ${principal.username} (${principal.role}).`);
  return NextResponse.next();
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico|icon.svg).*)"],
};
