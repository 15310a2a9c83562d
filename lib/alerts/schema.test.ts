import { describe, expect, it } from "vitest";
import { formatHeaderLines, parseHeaderLines, ZAlertRuleInput } from "./schema";

describe("ZAlertRuleInput", () => {
  it("fills defaults and turns blank selectors into null", () => {
    const r = ZAlertRuleInput.parse({ name: " api ", url: "https://hooks.example.com/x", metric: "  " });
    expect(r).toMatchObject({ name: "api", enabled: true, minSeverity: "medium", metric: null, channel: "webhook", cooldownSec: 300, notifyResolve: true, types: [], headers: {} });
  });
  it("rejects an empty name and non-http URLs with readable messages", () => {
    const r = ZAlertRuleInput.safeParse({ name: "", url: "ftp://x" });
    expect(r.success).toBe(false);
    const msgs = Object.fromEntries(r.error!.issues.map((i) => [i.path.join("."), i.message]));
    expect(msgs.name).toBe("Name is required");
    expect(msgs.url).toBe("URL must be an http:// or https:// address");
    expect(ZAlertRuleInput.safeParse({ name: "x", url: "not a url" }).success).toBe(false);
    expect(ZAlertRuleInput.safeParse({ name: "x", url: "javascript:alert(1)" }).success).toBe(false);
    expect(ZAlertRuleInput.safeParse({ name: "x", url: "http://127.0.0.1:9093" }).success).toBe(true);
  });
  it("validates cooldown and header names", () => {
    expect(ZAlertRuleInput.safeParse({ name: "x", url: "http://a", cooldownSec: -1 }).success).toBe(false);
    expect(ZAlertRuleInput.safeParse({ name: "x", url: "http://a", cooldownSec: 1.5 }).success).toBe(false);
    expect(ZAlertRuleInput.safeParse({ name: "x", url: "http://a", headers: { "bad name": "v" } }).success).toBe(false);
    expect(ZAlertRuleInput.safeParse({ name: "x", url: "http://a", headers: { Authorization: "a\nb" } }).success).toBe(false);
  });
});

describe("parseHeaderLines", () => {
  it("reads Name: value lines and reports bad ones", () => {
    expect(parseHeaderLines("Authorization: Bearer abc:def\n\nX-Team: sre\nnonsense\n: v")).toEqual({
      headers: { Authorization: "Bearer abc:def", "X-Team": "sre" },
      badLines: [4, 5],
    });
    expect(parseHeaderLines(formatHeaderLines({ A: "1", B: "2" })).headers).toEqual({ A: "1", B: "2" });
  });
});
