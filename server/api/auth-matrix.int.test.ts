import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { encodeWriteRequest } from "@/lib/ingest/remote-write";
import { ROLES, roleAtLeast, type TRole } from "@/lib/auth/roles";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";
import { startOmenServer, type OmenServer } from "../testing/omen-server";

vi.mock("server-only", () => ({}));
const { appRouter } = await import("./root");

/**
 * The auth matrix, generated: every tRPC procedure (walked from the router), every page and every
 * API route (globbed from app/) is called against the real web process anonymously, with each
 * role and with each token scope. Anonymous → 401 (pages: a redirect to /login); below the
 * procedure's role → 403; at or above → past the check (any answer but 401/403).
 */
const root = path.resolve(import.meta.dirname, "..", "..");
const ADMIN_PASSWORD = "matrix-admin-password";
const ENV_READ_TOKEN = "matrix-env-read-token-0123456789";
let tdb: TestDatabase;
let omen: OmenServer;
const cookies: Partial<Record<TRole, string>> = {};
const tokens: Record<"ingest" | "read" | "admin", string> = { ingest: "", read: "", admin: "" };
let signIns = 0;

async function signIn(username: string, password: string): Promise<string> {
  signIns++;
  return omen.signIn(username, password);
}

type Caller = { cookie?: string; token?: string; headers?: Record<string, string> };
function authHeaders(c: Caller): Record<string, string> {
  return { ...(c.cookie ? { cookie: c.cookie } : {}), ...(c.token ? { authorization: `Bearer ${c.token}` } : {}), ...c.headers };
}

async function trpc(pathName: string, type: "query" | "mutation", caller: Caller, input?: unknown): Promise<{ status: number; body: any }> {
  const payload = JSON.stringify({ json: input ?? null });
  const res =
    type === "query"
      ? await fetch(`${omen.url}/api/trpc/${pathName}${input === undefined ? "" : `?input=${encodeURIComponent(payload)}`}`, { headers: authHeaders(caller) })
      : await fetch(`${omen.url}/api/trpc/${pathName}`, { method: "POST", headers: { "content-type": "application/json", ...authHeaders(caller) }, body: payload });
  return { status: res.status, body: await res.json().catch(() => null) };
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  omen = await startOmenServer({ databaseUrl: tdb.url, env: { OMEN_ADMIN_PASSWORD: ADMIN_PASSWORD, OMEN_API_TOKEN: ENV_READ_TOKEN } });
  cookies.admin = await signIn("admin", ADMIN_PASSWORD);
  for (const role of ["viewer", "operator"] as const) {
    const r = await trpc("access.createUser", "mutation", { cookie: cookies.admin }, { username: `matrix-${role}`, password: `${role}-password-1`, role });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    cookies[role] = await signIn(`matrix-${role}`, `${role}-password-1`);
  }
  for (const scope of ["ingest", "read", "admin"] as const) {
    const r = await trpc("access.createToken", "mutation", { cookie: cookies.admin }, { name: `matrix-${scope}`, scopes: [scope] });
    tokens[scope] = r.body.result.data.json.secret as string;
  }
}, 600_000); // includes `next build` when the sources changed
afterAll(async () => {
  await omen?.stop();
  await tdb?.drop();
});

interface ProcDef {
  _def: { procedure?: boolean; type: "query" | "mutation"; meta?: { role?: TRole }; record?: Record<string, unknown> };
}
function walk(rec: Record<string, unknown>, prefix = ""): { path: string; type: "query" | "mutation"; role: TRole | undefined }[] {
  return Object.entries(rec).flatMap(([k, v]) => {
    const def = (v as ProcDef)._def;
    const p = prefix + k;
    if (def?.procedure) return [{ path: p, type: def.type, role: def.meta?.role }];
    return walk((def?.record ?? v) as Record<string, unknown>, `${p}.`);
  });
}
const procedures = walk((appRouter._def as unknown as { record: Record<string, unknown> }).record);

describe("tRPC procedures (walked from the router)", () => {
  it("every procedure is built from a role builder, and no viewer-level procedure changes anything", () => {
    expect(procedures.length).toBeGreaterThan(30);
    for (const p of procedures) {
      expect(p.role, `${p.path} has no role`).toBeDefined();
      if (p.type === "mutation") expect(roleAtLeast(p.role!, "operator"), `${p.path} is a mutation open to viewers`).toBe(true);
    }
    const adminOnly = procedures.filter((p) => p.role === "admin").map((p) => p.path);
    for (const p of ["sources.savePrometheus", "sources.testPrometheusQuery", "alerts.create", "alerts.sendTest", "access.createToken", "access.createUser", "access.tokens", "access.users"]) {
      expect(adminOnly).toContain(p);
    }
  });

  it("anonymous callers get 401 from every procedure", async () => {
    for (const p of procedures) expect((await trpc(p.path, p.type, {})).status, p.path).toBe(401);
  });

  it("each role is refused (403) below a procedure's role and let through at or above it", async () => {
    for (const p of procedures) {
      for (const role of ROLES) {
        const { status, body } = await trpc(p.path, p.type, { cookie: cookies[role] });
        if (roleAtLeast(role, p.role!)) expect([401, 403], `${role} on ${p.path}: ${JSON.stringify(body).slice(0, 200)}`).not.toContain(status);
        else expect(status, `${role} on ${p.path}`).toBe(403);
      }
    }
  });

  it("tokens: read acts as a viewer, admin as an admin, ingest-only gets nothing", async () => {
    for (const p of procedures) {
      expect((await trpc(p.path, p.type, { token: tokens.ingest })).status, `ingest token on ${p.path}`).toBe(403);
      const read = (await trpc(p.path, p.type, { token: tokens.read })).status;
      if (p.role === "viewer") expect([401, 403]).not.toContain(read);
      else expect(read, `read token on ${p.path}`).toBe(403);
      expect([401, 403], `admin token on ${p.path}`).not.toContain((await trpc(p.path, p.type, { token: tokens.admin })).status);
    }
    expect((await trpc("streams.list", "query", { token: ENV_READ_TOKEN })).status).toBe(200);
    expect((await trpc("streams.list", "query", { token: "omen_not-a-real-token-000000000000000000000" })).status).toBe(401);
  });
});

/** Route paths from app/: `page.tsx` and `route.ts` files, dynamic segments filled in. */
function appFiles(name: "page.tsx" | "route.ts"): { route: string; file: string }[] {
  const out: { route: string; file: string }[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === name) {
        const rel = path.relative(path.join(root, "app"), dir).split(path.sep).filter((s) => s && !/^\(.*\)$/.test(s));
        const segs = rel.map((s) => (s.startsWith("[...") ? "x/y" : s.startsWith("[") ? (s.includes("id") ? "00000000-0000-4000-8000-000000000001" : "x") : s));
        out.push({ route: `/${segs.join("/")}`, file: p });
      }
    }
  };
  walk(path.join(root, "app"));
  return out;
}

const PUBLIC_PAGES = new Set(["/login", "/setup"]);
const ADMIN_PAGES = new Set(["/settings/users", "/settings/tokens"]);

describe("pages (globbed from app/)", () => {
  const pages = appFiles("page.tsx");
  it("anonymous visitors are sent to the log-in page; roles below a page's get 403; one allowed case per role", async () => {
    expect(pages.length).toBeGreaterThan(8);
    for (const { route } of pages) {
      const anon = await fetch(`${omen.url}${route}`, { redirect: "manual" });
      if (PUBLIC_PAGES.has(route)) {
        expect(anon.status, route).toBe(200);
        continue;
      }
      expect(anon.status, route).toBe(307);
      expect(anon.headers.get("location"), route).toMatch(/\/login(\?next=|$)/);
      // a token is not a session: pages want a signed-in user
      expect((await fetch(`${omen.url}${route}`, { redirect: "manual", headers: { authorization: `Bearer ${tokens.admin}` } })).status, route).toBe(307);
      for (const role of ROLES) {
        const res = await fetch(`${omen.url}${route}`, { redirect: "manual", headers: { cookie: cookies[role]! } });
        const need: TRole = ADMIN_PAGES.has(route) ? "admin" : "viewer";
        // allowed: the page answers (a made-up id may be 404), not a refusal or a redirect to log in
        if (roleAtLeast(role, need)) expect([200, 404], `${role} on ${route}`).toContain(res.status);
        else expect(res.status, `${role} on ${route}`).toBe(403);
      }
    }
  });
});

describe("API routes (globbed from app/)", () => {
  const routes = appFiles("route.ts").map(({ route, file }) => {
    const src = fs.readFileSync(file, "utf8");
    const methods = ["GET", "POST", "PUT", "DELETE", "PATCH"].filter((m) => new RegExp(`export (async )?function ${m}\\b|as ${m}\\b`).test(src));
    return { route, methods };
  });
  const INGEST = new Set(["POST /api/v1/write", "POST /v1/metrics", "POST /api/v1/import/csv"]);

  it("every endpoint refuses anonymous callers (401) except sign-in and liveness, which says no more than ok", async () => {
    expect(routes.length).toBeGreaterThan(8);
    for (const { route, methods } of routes) {
      for (const method of methods) {
        const res = await fetch(`${omen.url}${route}`, { method, redirect: "manual", ...(method === "GET" ? {} : { body: "" }) });
        const key = `${method} ${route}`;
        if (route.startsWith("/api/auth/")) expect(res.status, key).not.toBe(500);
        else if (route === "/api/health") expect(Object.keys(await res.json())).toEqual(["ok"]);
        else expect(res.status, key).toBe(401);
      }
    }
  });

  it("read endpoints need the read scope; write endpoints the ingest scope", async () => {
    for (const { route, methods } of routes) {
      for (const method of methods) {
        const key = `${method} ${route}`;
        if (route.startsWith("/api/auth/") || route === "/api/health" || route.startsWith("/api/trpc")) continue;
        const call = (token: string) => fetch(`${omen.url}${route}`, { method, headers: { authorization: `Bearer ${token}` }, ...(method === "GET" ? {} : { body: "" }) });
        if (INGEST.has(key)) {
          expect((await call(tokens.read)).status, key).toBe(403);
          expect([401, 403], key).not.toContain((await call(tokens.ingest)).status);
        } else {
          expect((await call(tokens.ingest)).status, key).toBe(403);
          expect([401, 403], key).not.toContain((await call(tokens.read)).status);
          expect([401, 403], key).not.toContain((await fetch(`${omen.url}${route}`, { method, headers: { cookie: cookies.viewer! } })).status);
        }
      }
    }
    const full = await (await fetch(`${omen.url}/api/health`, { headers: { cookie: cookies.viewer! } })).json();
    expect(full).toHaveProperty("database");
  });
});

describe("tokens", () => {
  const rw = (token: string) =>
    fetch(`${omen.url}/api/v1/write?source=matrix`, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf", "content-encoding": "snappy", authorization: `Bearer ${token}` },
      body: Buffer.from(encodeWriteRequest({ timeseries: [{ labels: [{ name: "__name__", value: "matrix_metric" }], samples: [{ timestamp: Date.now(), value: 1 }] }] })),
    });

  it("an ingest token writes through remote_write; rotating replaces its secret; revoking refuses it", async () => {
    const created = await trpc("access.createToken", "mutation", { cookie: cookies.admin }, { name: "rotating", scopes: ["ingest"] });
    const { token, secret } = created.body.result.data.json as { token: { id: number }; secret: string };
    expect((await rw(secret)).status).toBe(204);
    expect((await rw(tokens.read)).status).toBe(403);
    const listed = (await trpc("access.tokens", "query", { cookie: cookies.admin })).body.result.data.json as { id: number; prefix: string }[];
    expect(JSON.stringify(listed)).not.toContain(secret);
    const rotated = (await trpc("access.rotateToken", "mutation", { cookie: cookies.admin }, { id: token.id })).body.result.data.json.secret as string;
    expect((await rw(secret)).status).toBe(401);
    expect((await rw(rotated)).status).toBe(204);
    expect((await trpc("access.revokeToken", "mutation", { cookie: cookies.admin }, { id: token.id })).status).toBe(200);
    expect((await rw(rotated)).status).toBe(401);
    expect((await trpc("access.revokeToken", "mutation", { cookie: cookies.admin }, { id: token.id })).status).toBe(404);
  });

  it("the configuration history records the signed-in user, whatever x-omen-user says", async () => {
    const saved = await trpc("config.save", "mutation", { cookie: cookies.operator, headers: { "x-omen-user": "mallory" } }, { target: { scope: "global", ref: "" }, settings: { sensitivity: 1.1 } });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const history = (await trpc("config.history", "query", { cookie: cookies.viewer })).body.result.data.json as { author: string }[];
    expect(history[0]!.author).toBe("matrix-operator");
  });

  it("sources.ingestSetup no longer hands out the ingest token", async () => {
    const setup = await trpc("sources.ingestSetup", "query", { cookie: cookies.admin });
    expect(JSON.stringify(setup.body)).not.toContain(omen.token);
  });
});

describe("Host and Origin", () => {
  it("a foreign Host (DNS rebinding) is refused on pages, APIs and the ingest endpoints", async () => {
    const http = await import("node:http");
    const get = (p: string, method = "GET") =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(omen.url);
        const req = http.request({ host: u.hostname, port: u.port, path: p, method, headers: { host: "rebind.example:80", cookie: cookies.admin! } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on("error", reject);
        req.end();
      });
    expect(await get("/")).toBe(403);
    expect(await get("/api/v1/streams")).toBe(403);
    expect(await get("/api/health")).toBe(403);
    expect(await get("/api/v1/write", "POST")).toBe(403);
  });

  it("cross-site mutations are refused, form posts included; the same origin is accepted", async () => {
    const evil = { origin: "https://evil.example" };
    expect((await trpc("models.snapshotNow", "mutation", { cookie: cookies.admin, headers: evil })).status).toBe(403);
    const form = await fetch(`${omen.url}/api/v1/import/csv`, {
      method: "POST",
      headers: { cookie: cookies.admin!, origin: "https://evil.example", "content-type": "multipart/form-data; boundary=x" },
      body: "--x\r\nContent-Disposition: form-data; name=f\r\n\r\ntimestamp,a\n1,1\r\n--x--\r\n",
    });
    expect(form.status).toBe(403);
    const crossSite = await fetch(`${omen.url}/api/auth/sign-out`, { method: "POST", headers: { cookie: cookies.viewer!, "sec-fetch-site": "cross-site" } });
    expect(crossSite.status).toBe(403);
    expect((await trpc("models.snapshotNow", "mutation", { cookie: cookies.admin, headers: { origin: omen.url } })).status).toBe(200);
  });
});

describe("sign-in rate limit (runs last: it locks this address out for a minute)", () => {
  it("at most 10 sign-in attempts a minute per address; then even the right password waits (429)", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${omen.url}/api/auth/sign-in/username`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: `wrong-${i}-password` }) });
      statuses.push(res.status);
    }
    const allowed = statuses.filter((s) => s !== 429).length;
    expect(allowed + signIns).toBeLessThanOrEqual(10 + 1);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((s) => s !== 429 && s !== 401)).toEqual([]);
    const right = await fetch(`${omen.url}/api/auth/sign-in/username`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }) });
    expect(right.status).toBe(429);
  });
});
