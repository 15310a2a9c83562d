import { describe, expect, it } from "vitest";
import { inCidr, outboundAllowed } from "./outbound-allow";

const t = (hostname: string, port: number, addresses: string[] = []) => ({ hostname, port, addresses });

describe("OMEN_OUTBOUND_ALLOW", () => {
  it("empty allows any host", () => expect(outboundAllowed([], t("anything", 1))).toBe(true));
  it("host, host:port and *.suffix entries", () => {
    const allow = ["prom.internal", "hooks.example.com:8443", "*.slack.com"];
    expect(outboundAllowed(allow, t("prom.internal", 9090))).toBe(true);
    expect(outboundAllowed(allow, t("hooks.example.com", 8443))).toBe(true);
    expect(outboundAllowed(allow, t("hooks.example.com", 443))).toBe(false);
    expect(outboundAllowed(allow, t("hooks.slack.com", 443))).toBe(true);
    expect(outboundAllowed(allow, t("slack.com", 443))).toBe(false);
    expect(outboundAllowed(allow, t("evilslack.com", 443))).toBe(false);
    expect(outboundAllowed(allow, t("127.0.0.1", 22))).toBe(false);
  });
  it("CIDR entries need every resolved address inside the range", () => {
    expect(inCidr("10.1.2.3", "10.0.0.0/8")).toBe(true);
    expect(inCidr("11.1.2.3", "10.0.0.0/8")).toBe(false);
    expect(inCidr("::ffff:10.0.0.1", "10.0.0.0/8")).toBe(true);
    expect(inCidr("fd00::1", "fd00::/8")).toBe(true);
    expect(inCidr("fe80::1", "fd00::/8")).toBe(false);
    expect(outboundAllowed(["10.0.0.0/8"], t("prom", 9090, ["10.0.0.5"]))).toBe(true);
    expect(outboundAllowed(["10.0.0.0/8"], t("prom", 9090, ["10.0.0.5", "192.168.1.1"]))).toBe(false);
    expect(outboundAllowed(["10.0.0.0/8"], t("unresolvable", 9090, []))).toBe(false);
  });
});
