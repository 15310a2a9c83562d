/**
 * Which Host and Origin headers the web app answers (pure; server/services/auth/request-guard.ts
 * feeds it the settings). Checking Host defeats DNS rebinding: a page on evil.example whose name
 * resolves to 127.0.0.1 reaches a loopback-only Omen, but its requests say `Host: evil.example`.
 * Checking Origin (and Sec-Fetch-Site) on every mutation refuses cross-site form posts and fetches.
 */

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];

export interface HostPolicyInput {
  bindHost: string;
  port: number;
  publicUrl?: string;
  /** Addresses of this machine (used when bound to every interface). */
  interfaceAddresses?: string[];
  hostname?: string;
}

function hostPort(host: string, port: number): string {
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `${h.toLowerCase()}:${port}`;
}

/** The `host:port` values (lower case) a request's Host header may carry. */
export function allowedHosts(input: HostPolicyInput): Set<string> {
  const out = new Set<string>();
  const wildcard = input.bindHost === "0.0.0.0" || input.bindHost === "::" || input.bindHost === "[::]";
  for (const name of LOOPBACK_NAMES) out.add(hostPort(name, input.port));
  if (!wildcard) out.add(hostPort(input.bindHost, input.port));
  else {
    for (const a of input.interfaceAddresses ?? []) out.add(hostPort(a, input.port));
    if (input.hostname) out.add(hostPort(input.hostname, input.port));
  }
  if (input.publicUrl) {
    const u = new URL(input.publicUrl);
    const port = u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
    out.add(hostPort(u.hostname, port));
    // a Host header leaves out the scheme's default port
    if (!u.port) out.add(u.hostname.toLowerCase());
  }
  return out;
}

/** Normalises a Host header to `host:port` (adding the default port 80 when absent). */
export function normaliseHost(host: string | null | undefined, defaultPort = 80): string | undefined {
  if (!host) return undefined;
  const h = host.trim().toLowerCase();
  if (!h) return undefined;
  if (/^\[[^\]]+\]:\d+$/.test(h) || /^[^:]+:\d+$/.test(h)) return h;
  return `${h}:${defaultPort}`;
}

export function hostAllowed(host: string | null | undefined, allowed: Set<string>): boolean {
  if (!host) return false;
  const h = host.trim().toLowerCase();
  return allowed.has(h) || allowed.has(normaliseHost(h) ?? "");
}

/** Origins (scheme://host:port) that may send mutations: every allowed host over http and https. */
export function allowedOrigins(hosts: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const h of hosts) {
    const [, name, port] = /^(.*?)(?::(\d+))?$/.exec(h) ?? [];
    for (const scheme of ["http", "https"]) {
      const def = scheme === "http" ? "80" : "443";
      out.add(!port || port === def ? `${scheme}://${name}` : `${scheme}://${name}:${port}`);
    }
  }
  return out;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export type OriginVerdict = { ok: true } | { ok: false; reason: string };

/**
 * A mutation (any method but GET/HEAD/OPTIONS) is refused when the browser says it comes from
 * another site: an Origin that is not one of ours (including "null" from sandboxed frames and
 * file:), or Sec-Fetch-Site cross-site. Requests without either header come from non-browser
 * clients (Prometheus, curl, SDKs), which cannot carry a victim's cookies.
 */
export function checkMutationOrigin(method: string, headers: { get(name: string): string | null }, origins: Set<string>): OriginVerdict {
  if (SAFE_METHODS.has(method.toUpperCase())) return { ok: true };
  const origin = headers.get("origin");
  if (origin !== null && !origins.has(origin.toLowerCase())) return { ok: false, reason: `Origin ${origin.slice(0, 100)} is not allowed` };
  const site = headers.get("sec-fetch-site");
  if (site === "cross-site") return { ok: false, reason: "cross-site request refused" };
  return { ok: true };
}
