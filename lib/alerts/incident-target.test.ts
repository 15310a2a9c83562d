import { describe, expect, it } from "vitest";
import { ruleTarget } from "./incident-target";

const rule = { minSeverity: "low" as const, metric: null, sourceName: null, group: null, types: [] };
const m = (id: string, metric: string, severity: "low" | "medium" | "high", peakScore: number) => ({
  id,
  streamId: id.length,
  metric,
  sourceName: "vm-1",
  group: "node",
  severity,
  type: "point" as const,
  peakScore,
});
const inc = (members: ReturnType<typeof m>[], status: "open" | "resolved" = "open") => ({ status, historical: false, createdAtMs: 1, endMs: null, members });

describe("ruleTarget", () => {
  it("sees the incident through its worst matching anomaly", () => {
    const t = ruleTarget(rule, inc([m("a", "node_load1", "low", 60), m("bb", "node_cpu", "high", 90), m("ccc", "node_mem", "high", 80)]))!;
    expect(t.lead.id).toBe("bb");
    expect(t.target).toMatchObject({ severity: "high", metric: "node_cpu", resolved: false });
  });
  it("only through anomalies the rule selects; Omen's own metrics never", () => {
    expect(ruleTarget({ ...rule, metric: "node_load*" }, inc([m("a", "node_load1", "low", 60), m("bb", "node_cpu", "high", 90)]))!.target.severity).toBe("low");
    expect(ruleTarget(rule, inc([m("a", "omen_worker_batch_duration_ms", "high", 99)]))).toBeNull();
  });
  it("is resolved exactly when the incident's status is", () => {
    expect(ruleTarget(rule, inc([m("a", "x", "low", 1)], "resolved"))!.target.resolved).toBe(true);
  });
});
