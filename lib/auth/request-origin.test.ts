import { describe, expect, it } from "vitest";
import { allowedHosts, allowedOrigins, checkMutationOrigin, hostAllowed } from "./request-origin";

const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n] ?? null });

describe("allowed hosts (DNS rebinding)", () => {
  it("a loopback bind answers its own address and loopback names, never another name", () => {
    const hosts = allowedHosts({ bindHost: "127.0.0.1", port: 3000 });
    for (const ok of ["127.0.0.1:3000", "localhost:3000", "LOCALHOST:3000", "[::1]:3000"]) expect(hostAllowed(ok, hosts)).toBe(true);
    for (const bad of ["evil.example:3000", "evil.example", "127.0.0.1:3001", "127.0.0.1", "", "127.0.0.1.nip.io:3000"]) expect(hostAllowed(bad, hosts)).toBe(false);
    expect(hostAllowed(null, hosts)).toBe(false);
  });

  it("OMEN_PUBLIC_URL's host is allowed, with and without its default port", () => {
    const hosts = allowedHosts({ bindHost: "0.0.0.0", port: 3000, publicUrl: "https://omen.example.org", interfaceAddresses: ["10.1.2.3"], hostname: "box" });
    for (const ok of ["omen.example.org", "omen.example.org:443", "10.1.2.3:3000", "box:3000", "localhost:3000"]) expect(hostAllowed(ok, hosts)).toBe(true);
    for (const bad of ["omen.example.org:3000", "other.example.org", "10.1.2.4:3000"]) expect(hostAllowed(bad, hosts)).toBe(false);
  });
});

describe("mutation origin (CSRF)", () => {
  const origins = allowedOrigins(allowedHosts({ bindHost: "127.0.0.1", port: 3000, publicUrl: "https://omen.example.org" }));

  it("reads are never refused; same-origin and header-less (non-browser) mutations pass", () => {
    expect(checkMutationOrigin("GET", headers({ origin: "https://evil.example" }), origins).ok).toBe(true);
    expect(checkMutationOrigin("POST", headers({ origin: "http://127.0.0.1:3000" }), origins).ok).toBe(true);
    expect(checkMutationOrigin("POST", headers({ origin: "https://omen.example.org" }), origins).ok).toBe(true);
    expect(checkMutationOrigin("POST", headers({}), origins).ok).toBe(true);
  });

  it("cross-site form posts and fetches are refused, including null origins and Sec-Fetch-Site cross-site", () => {
    for (const origin of ["https://evil.example", "null", "http://127.0.0.1:3001", "http://omen.example.org.evil.example"]) {
      expect(checkMutationOrigin("POST", headers({ origin, "content-type": "multipart/form-data" }), origins).ok).toBe(false);
    }
    expect(checkMutationOrigin("DELETE", headers({ "sec-fetch-site": "cross-site" }), origins).ok).toBe(false);
    expect(checkMutationOrigin("POST", headers({ "sec-fetch-site": "same-origin", origin: "http://localhost:3000" }), origins).ok).toBe(true);
  });
});
