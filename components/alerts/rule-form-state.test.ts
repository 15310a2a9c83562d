import { describe, expect, it } from "vitest";
import { describeSelectors, displayUrl, EMPTY_FORM, formFromRule, parseRuleForm } from "./rule-form-state";

describe("parseRuleForm", () => {
  it("reports one clear message per invalid field", () => {
    const r = parseRuleForm({ ...EMPTY_FORM, name: " ", url: "ftp://x", cooldownSec: "abc", headers: "oops" });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual({
      name: "Name is required",
      url: "URL must be an http:// or https:// address",
      cooldownSec: "Cooldown must be a number of seconds",
      headers: 'Line 1: write headers as "Name: value"',
    });
  });
  it("returns settings that round-trip through formFromRule", () => {
    const r = parseRuleForm({ ...EMPTY_FORM, name: "api", url: "https://hooks.slack.com/services/T/B/x", channel: "slack", metric: "api_*", headers: "Authorization: Bearer t", cooldownSec: "60", types: ["point"] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ name: "api", channel: "slack", metric: "api_*", sourceName: null, headers: { Authorization: "Bearer t" }, cooldownSec: 60, types: ["point"] });
    const back = formFromRule({ ...r.value, id: 1, createdAtMs: 0, updatedAtMs: 0 });
    expect(back).toMatchObject({ name: "api", metric: "api_*", sourceName: "", headers: "Authorization: Bearer t", cooldownSec: "60" });
  });
});

describe("display helpers", () => {
  it("summarises selectors and hides URL secrets", () => {
    expect(describeSelectors({ minSeverity: "high", metric: "api_*", sourceName: null, group: "shop", types: [] })).toBe("≥ high · metric api_* · group shop · all types");
    expect(displayUrl("https://user:pw@hooks.example.com/services/T000/B000/XXXXXXXXXXXXXXXX?token=1")).toBe("hooks.example.com/services/…");
    expect(displayUrl("http://127.0.0.1:9093")).toBe("127.0.0.1:9093");
    expect(displayUrl("http://am:9093/api/v2/alerts")).toBe("am:9093/api/…");
  });
});
