import net from "node:net";

/**
 * The OMEN_OUTBOUND_ALLOW allow-list (pure): entries are `host`, `host:port`, `*.suffix`
 * (any sub-domain) or an IPv4/IPv6 CIDR range (`10.0.0.0/8`, `fd00::/8`), matched against the
 * URL's host name and, for ranges, the addresses it resolves to. An empty list allows any host.
 */
export interface AllowTarget {
  hostname: string;
  port: number;
  /** Addresses the host name resolves to (or the literal address). */
  addresses: string[];
}

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
}

function ipv6ToBigInt(ip: string): bigint {
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups: string[] = tail === undefined ? h : [...h, ...(Array(8 - h.length - t.length).fill("0") as string[]), ...t];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || "0", 16)), 0n);
}

export function inCidr(address: string, cidr: string): boolean {
  const [range, bitsText] = cidr.split("/") as [string, string];
  const bits = Number(bitsText);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const addr = mapped ?? address;
  if (net.isIPv4(range) && net.isIPv4(addr)) {
    if (bits === 0) return true;
    const mask = bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    return ((ipv4ToInt(range) & mask) >>> 0) === ((ipv4ToInt(addr) & mask) >>> 0);
  }
  if (net.isIPv6(range) && net.isIPv6(addr)) {
    const mask = bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - Math.min(bits, 128))) - 1n);
    return (ipv6ToBigInt(range) & mask) === (ipv6ToBigInt(addr) & mask);
  }
  return false;
}

export function entryAllows(entry: string, t: AllowTarget): boolean {
  const host = t.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (entry.includes("/")) return t.addresses.length > 0 && t.addresses.every((a) => inCidr(a, entry));
  if (entry.startsWith("*.")) return host.endsWith(entry.slice(1)) && host.length > entry.length - 1;
  const portMatch = /^(.*):(\d+)$/.exec(entry);
  if (portMatch && !net.isIPv6(entry)) return host === portMatch[1]!.replace(/^\[|\]$/g, "") && t.port === Number(portMatch[2]);
  return host === entry.replace(/^\[|\]$/g, "");
}

export function outboundAllowed(allow: readonly string[], t: AllowTarget): boolean {
  return allow.length === 0 || allow.some((e) => entryAllows(e, t));
}
