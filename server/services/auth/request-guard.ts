import os from "node:os";
import { allowedHosts, allowedOrigins, checkMutationOrigin, hostAllowed } from "@/lib/auth/request-origin";
import { env } from "../../env";

/**
 * Host and Origin checks for every request the web process answers (the custom server calls it
 * for the ingest writes, proxy.ts for everything Next serves).
 */
let cached: { hosts: Set<string>; origins: Set<string> } | undefined;

function policy() {
  if (!cached) {
    const e = env();
    const addresses = Object.values(os.networkInterfaces())
      .flat()
      .flatMap((i) => (i ? [i.address] : []));
    const hosts = allowedHosts({ bindHost: e.HOST, port: e.PORT, publicUrl: e.OMEN_PUBLIC_URL, interfaceAddresses: addresses, hostname: os.hostname() });
    cached = { hosts, origins: allowedOrigins(hosts) };
  }
  return cached;
}

export function trustedOriginList(): string[] {
  return [...policy().origins];
}

export interface GuardRefusal {
  status: 403;
  message: string;
}

/** Undefined when the request may go on; otherwise why it is refused (403). */
export function guardRequest(method: string, headers: { get(name: string): string | null }): GuardRefusal | undefined {
  const p = policy();
  const host = headers.get("host");
  if (!hostAllowed(host, p.hosts)) {
    return {
      status: 403,
      message: `Host "${(host ?? "").slice(0, 100)}" is not served here. Reach Omen at its own address, or set OMEN_PUBLIC_URL to the URL users open.`,
    };
  }
  const origin = checkMutationOrigin(method, headers, p.origins);
  if (!origin.ok) return { status: 403, message: `Cross-site request refused (${origin.reason}).` };
  return undefined;
}

/** For tests. */
export function resetRequestGuard(): void {
  cached = undefined;
}
