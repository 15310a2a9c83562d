import { describe, expect, it } from "vitest";
import { pathAccess } from "./path-policy";

describe("path policy (default deny)", () => {
  it("only sign-in, set-up, better-auth's endpoints and liveness are public", () => {
    for (const p of ["/login", "/setup", "/api/auth/sign-in/username", "/api/auth/setup", "/api/health"]) expect(pathAccess("GET", p).kind).toBe("public");
  });
  it("an unknown page needs a viewer, admin pages an admin, an unknown API the read scope", () => {
    expect(pathAccess("GET", "/some/new/page")).toEqual({ kind: "page", role: "viewer" });
    expect(pathAccess("GET", "/settings/users")).toEqual({ kind: "page", role: "admin" });
    expect(pathAccess("GET", "/settings/tokens/")).toEqual({ kind: "page", role: "admin" });
    expect(pathAccess("GET", "/api/v2/new-thing")).toEqual({ kind: "api", scope: "read" });
    expect(pathAccess("GET", "/metrics")).toEqual({ kind: "api", scope: "read" });
    expect(pathAccess("POST", "/api/trpc/config.save").kind).toBe("trpc");
  });
  it("only POSTs to the write endpoints are left to their token check", () => {
    expect(pathAccess("POST", "/api/v1/write").kind).toBe("ingest");
    expect(pathAccess("POST", "/v1/metrics").kind).toBe("ingest");
    expect(pathAccess("GET", "/api/v1/write").kind).toBe("api");
    expect(pathAccess("POST", "/api/authx").kind).toBe("api");
  });
});
