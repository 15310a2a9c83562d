import { describe, expect, it } from "vitest";
import { decideAlert, metricMatches, retryDelayMs, ruleMatches, type DecisionAnomaly, type DecisionRule, type PriorDelivery } from "./match";

const rule = (over: Partial<DecisionRule> = {}): DecisionRule => ({
  minSeverity: "medium",
  metric: null,
  sourceName: null,
  group: null,
  types: [],
  cooldownSec: 300,
  notifyResolve: true,
  createdAtMs: 1_000,
  ...over,
});
const anomaly = (over: Partial<DecisionAnomaly> = {}): DecisionAnomaly => ({
  metric: "api_latency_ms",
  sourceName: "shop",
  group: "api",
  severity: "high",
  type: "point",
  createdAtMs: 2_000,
  resolved: false,
  ...over,
});
const NOW = 10_000_000;

describe("metricMatches", () => {
  it("treats plain text as a case-insensitive substring", () => {
    expect(metricMatches("latency", "api_latency_ms")).toBe(true);
    expect(metricMatches("LATENCY", "api_latency_ms")).toBe(true);
    expect(metricMatches("cpu", "api_latency_ms")).toBe(false);
  });
  it("treats * and ? as a whole-name glob", () => {
    expect(metricMatches("api_*", "api_latency_ms")).toBe(true);
    expect(metricMatches("*_ms", "api_latency_ms")).toBe(true);
    expect(metricMatches("api_*", "x_api_latency")).toBe(false);
    expect(metricMatches("host_cpu?", "host_cpu0")).toBe(true);
    expect(metricMatches("a.b*", "axb")).toBe(false); // regex characters are literal
  });
  it("matches everything without a selector", () => {
    expect(metricMatches(null, "anything")).toBe(true);
    expect(metricMatches("", "anything")).toBe(true);
  });
});

describe("ruleMatches", () => {
  it("requires the minimum severity", () => {
    expect(ruleMatches(rule({ minSeverity: "high" }), anomaly({ severity: "medium" }))).toBe(false);
    expect(ruleMatches(rule({ minSeverity: "medium" }), anomaly({ severity: "medium" }))).toBe(true);
    expect(ruleMatches(rule({ minSeverity: "low" }), anomaly({ severity: "low" }))).toBe(true);
  });
  it("filters by source, group and type", () => {
    expect(ruleMatches(rule({ sourceName: "shop" }), anomaly())).toBe(true);
    expect(ruleMatches(rule({ sourceName: "host" }), anomaly())).toBe(false);
    expect(ruleMatches(rule({ group: "db" }), anomaly())).toBe(false);
    expect(ruleMatches(rule({ group: "api" }), anomaly({ group: null }))).toBe(false);
    expect(ruleMatches(rule({ types: ["trend", "point"] }), anomaly())).toBe(true);
    expect(ruleMatches(rule({ types: ["gap"] }), anomaly())).toBe(false);
  });
});

describe("decideAlert", () => {
  const sent = (event: PriorDelivery["event"], severity: PriorDelivery["severity"] = "medium", status: PriorDelivery["status"] = "sent", cycle = 0): PriorDelivery => ({
    event,
    severity,
    status,
    cycle,
  });

  it("opens a matching new anomaly once", () => {
    expect(decideAlert(rule(), anomaly(), [], null, NOW)).toEqual({ event: "opened", severity: "high", previousSeverity: null, suppressed: false, cycle: 0 });
    expect(decideAlert(rule(), anomaly(), [sent("opened", "high")], null, NOW)).toBeNull();
  });
  it("ignores anomalies created before the rule and those below its severity", () => {
    expect(decideAlert(rule({ createdAtMs: 5_000 }), anomaly({ createdAtMs: 4_000 }), [], null, NOW)).toBeNull();
    expect(decideAlert(rule({ minSeverity: "high" }), anomaly({ severity: "medium" }), [], null, NOW)).toBeNull();
  });
  it("opens when a low anomaly first reaches the rule's severity, then escalates further rises", () => {
    const r = rule({ minSeverity: "medium" });
    expect(decideAlert(r, anomaly({ severity: "low" }), [], null, NOW)).toBeNull();
    expect(decideAlert(r, anomaly({ severity: "medium" }), [], null, NOW)?.event).toBe("opened");
    expect(decideAlert(r, anomaly({ severity: "high" }), [sent("opened", "medium")], null, NOW)).toEqual({
      event: "escalated",
      severity: "high",
      previousSeverity: "medium",
      suppressed: false,
      cycle: 0,
    });
    expect(decideAlert(r, anomaly({ severity: "high" }), [sent("opened", "medium"), sent("escalated", "high")], null, NOW)).toBeNull();
  });
  it("suppresses an opening within the cooldown after the last one on the same stream", () => {
    const d = decideAlert(rule({ cooldownSec: 300 }), anomaly(), [], NOW - 299_000, NOW);
    expect(d).toMatchObject({ event: "opened", suppressed: true });
    expect(decideAlert(rule({ cooldownSec: 300 }), anomaly(), [], NOW - 301_000, NOW)).toMatchObject({ suppressed: false });
    expect(decideAlert(rule({ cooldownSec: 0 }), anomaly(), [], NOW, NOW)).toMatchObject({ suppressed: false });
  });
  it("never escalates or resolves a suppressed opening", () => {
    const prior = [sent("opened", "medium", "suppressed")];
    expect(decideAlert(rule(), anomaly({ severity: "high" }), prior, null, NOW)).toBeNull();
    expect(decideAlert(rule(), anomaly({ resolved: true }), prior, null, NOW)).toBeNull();
  });
  it("resolves once after an announced opening, only when the rule asks for it", () => {
    const prior = [sent("opened", "high")];
    expect(decideAlert(rule(), anomaly({ resolved: true }), prior, null, NOW)?.event).toBe("resolved");
    expect(decideAlert(rule(), anomaly({ resolved: true }), [...prior, sent("resolved", "high")], null, NOW)).toBeNull();
    expect(decideAlert(rule({ notifyResolve: false }), anomaly({ resolved: true }), prior, null, NOW)).toBeNull();
  });
  it("announces an anomaly that already ended as opened first (resolve follows on the next run)", () => {
    expect(decideAlert(rule(), anomaly({ resolved: true }), [], null, NOW)?.event).toBe("opened");
    expect(decideAlert(rule(), anomaly({ resolved: true, endMs: 1_500, createdAtMs: 1_500 + 59 * 60_000 }), [], null, NOW)?.event).toBe("opened");
  });
  it("does not announce anomalies found in history (written over an hour after they ended)", () => {
    const found = anomaly({ resolved: true, endMs: 2_000, createdAtMs: 2_000 + 2 * 3_600_000 });
    expect(decideAlert(rule(), found, [], null, NOW)).toBeNull();
    // one still open when the replay reached the present is announced
    expect(decideAlert(rule(), anomaly({ endMs: null, createdAtMs: 2_000 + 2 * 3_600_000 }), [], null, NOW)?.event).toBe("opened");
  });
  it("reopens after an announced resolution, then escalates and resolves again in that new cycle", () => {
    const closed = [sent("opened", "medium"), sent("resolved", "medium")];
    // going on again: the next cycle starts with "reopened", at the severity it has now
    expect(decideAlert(rule(), anomaly({ severity: "medium" }), closed, null, NOW)).toEqual({
      event: "reopened",
      severity: "medium",
      previousSeverity: null,
      suppressed: false,
      cycle: 1,
    });
    const reopened = [...closed, sent("reopened", "medium", "sent", 1)];
    expect(decideAlert(rule(), anomaly({ severity: "medium" }), reopened, null, NOW)).toBeNull();
    expect(decideAlert(rule(), anomaly({ severity: "high" }), reopened, null, NOW)).toMatchObject({ event: "escalated", previousSeverity: "medium", cycle: 1 });
    expect(decideAlert(rule(), anomaly({ resolved: true }), reopened, null, NOW)).toMatchObject({ event: "resolved", cycle: 1 });
    // and again: cycle 2
    expect(decideAlert(rule(), anomaly(), [...reopened, sent("resolved", "high", "sent", 1)], null, NOW)).toMatchObject({ event: "reopened", cycle: 2 });
    // a rule that never announces resolutions never announces reopenings either
    expect(decideAlert(rule({ notifyResolve: false }), anomaly({ severity: "medium" }), [sent("opened", "medium")], null, NOW)).toBeNull();
  });
  it("resolves a pending or failed opening too (the receiver may still get it)", () => {
    expect(decideAlert(rule(), anomaly({ resolved: true }), [sent("opened", "high", "failed")], null, NOW)?.event).toBe("resolved");
  });
});

describe("retryDelayMs", () => {
  it("doubles from 30 s and gives up after 5 attempts", () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n))).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(retryDelayMs(5)).toBeNull();
    expect(retryDelayMs(2, 1000)).toBe(2000);
  });
});

describe("Omen's own metrics", () => {
  it("are not alerted on unless a rule names them", () => {
    const own = anomaly({ metric: "omen_worker_batch_duration_ms", sourceName: "omen", group: "omen" });
    expect(ruleMatches(rule({ minSeverity: "low" }), own)).toBe(false);
    expect(ruleMatches(rule({ metric: "batch" }), own)).toBe(false);
    expect(decideAlert(rule({ minSeverity: "low" }), own, [], null, NOW)).toBeNull();
    expect(ruleMatches(rule({ metric: "omen_worker_*" }), own)).toBe(true);
    expect(ruleMatches(rule({ metric: "omen_worker_batch_duration_ms" }), own)).toBe(true);
    expect(ruleMatches(rule({ minSeverity: "low" }), anomaly({ metric: "host_load1" }))).toBe(true);
  });
});
