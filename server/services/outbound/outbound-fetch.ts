import dns from "node:dns/promises";
import net from "node:net";
import { outboundAllowed } from "@/lib/net/outbound-allow";
import { AppError } from "@/lib/errors/app-error";
import { env } from "../../env";

/**
 * Every request Omen makes to another host (Prometheus pull sources and their test, alert
 * webhooks and their test) goes through here: http(s) only, hosts limited by
 * OMEN_OUTBOUND_ALLOW when set, a timeout, redirects followed only within the same origin, and
 * one generic message for every network failure, so the answers cannot be used to map which
 * ports are open on hosts Omen can reach.
 */
export const MAX_REDIRECTS = 3;

export function couldNotReach(url: URL): AppError {
  return new AppError("UNAVAILABLE", `Could not reach ${url.origin}.`);
}

async function checkAllowed(url: URL, allow: readonly string[]): Promise<void> {
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new AppError("BAD_REQUEST", `Only http and https URLs are allowed, not ${url.protocol}.`);
  if (url.username || url.password) throw new AppError("BAD_REQUEST", "Put credentials in headers, not in the URL.");
  if (allow.length === 0) return;
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  let addresses: string[] = [];
  if (net.isIP(hostname)) addresses = [hostname];
  else if (allow.some((e) => e.includes("/"))) addresses = await dns.lookup(hostname, { all: true }).then((r) => r.map((a) => a.address), () => []);
  if (!outboundAllowed(allow, { hostname, port, addresses })) {
    throw new AppError("FORBIDDEN", `${url.host} is not in OMEN_OUTBOUND_ALLOW; an operator of this Omen can add it.`);
  }
}

export interface OutboundInit extends Omit<RequestInit, "redirect" | "signal"> {
  timeoutMs?: number;
}

/** fetch() with Omen's outbound rules; throws AppError (UNAVAILABLE: could not reach; FORBIDDEN: not allowed). */
export async function outboundFetch(target: string | URL, init: OutboundInit = {}): Promise<Response> {
  const e = env();
  const { timeoutMs = e.OMEN_OUTBOUND_TIMEOUT_MS, ...rest } = init;
  const signal = AbortSignal.timeout(timeoutMs);
  let url = new URL(target);
  const origin = url.origin;
  for (let hop = 0; ; hop++) {
    await checkAllowed(url, e.OMEN_OUTBOUND_ALLOW);
    let res: Response;
    try {
      res = await fetch(url, { ...rest, signal, redirect: "manual" });
    } catch {
      throw couldNotReach(url);
    }
    const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
    if (!location) return res;
    await res.body?.cancel().catch(() => undefined);
    const next = new URL(location, url);
    if (next.origin !== origin) throw new AppError("BAD_REQUEST", `${origin} redirected to another host (${next.origin}); Omen follows redirects only within the same host. Use the final URL.`);
    if (hop >= MAX_REDIRECTS) throw new AppError("BAD_REQUEST", `${origin} redirected more than ${MAX_REDIRECTS} times.`);
    url = next;
  }
}
