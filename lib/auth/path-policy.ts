import type { TRole, TScope } from "./roles";

/**
 * Who may reach a path, decided before any route runs (proxy.ts). Anything not listed here is a
 * page that needs a signed-in user, so a new page or route is protected without doing anything;
 * routes and procedures then check the finer role or scope themselves.
 */
export type TPathAccess =
  /** login, set-up, better-auth's own endpoints, liveness */
  | { kind: "public" }
  /** write endpoints: their handlers check an ingest-scoped token (or an admin session for CSV) */
  | { kind: "ingest" }
  /** tRPC: needs a session or token; each procedure checks its role */
  | { kind: "trpc" }
  /** HTTP API: needs a session or a token with `scope` */
  | { kind: "api"; scope: TScope }
  /** pages: need a signed-in user with at least `role` */
  | { kind: "page"; role: TRole };

const PUBLIC_PAGES = new Set(["/login", "/setup"]);
const INGEST_POSTS = new Set(["/api/v1/write", "/v1/metrics", "/api/v1/import/csv"]);
// `POST /api/v1/detect` falls under the read API (its handler checks a read-scoped bearer token).
/** Pages only admins open (their data is admin-only too). */
const ADMIN_PAGES = ["/settings/users", "/settings/tokens"];

export function pathAccess(method: string, pathname: string): TPathAccess {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
  if (PUBLIC_PAGES.has(path) || path === "/api/health" || path === "/api/auth" || path.startsWith("/api/auth/")) return { kind: "public" };
  if (method.toUpperCase() === "POST" && INGEST_POSTS.has(path)) return { kind: "ingest" };
  if (path === "/api/trpc" || path.startsWith("/api/trpc/")) return { kind: "trpc" };
  if (path.startsWith("/api/") || path === "/metrics" || path.startsWith("/v1/")) return { kind: "api", scope: "read" };
  if (ADMIN_PAGES.some((p) => path === p || path.startsWith(`${p}/`))) return { kind: "page", role: "admin" };
  return { kind: "page", role: "viewer" };
}
