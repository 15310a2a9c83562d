import { describe, expect, it } from "vitest";
import { domainFloor, isNonNegativeMetric } from "../triage/domain";
import { readableSummary } from "./summary";

describe("readableSummary", () => {
  const s = "point anomaly on 57: robust-z 5.1σ; expected -1.2e+5 [-3.00e+6, 4.71e+6], actual 80";
  it("names the stream instead of its id, and clips a non-negative metric's range at 0", () => {
    expect(readableSummary(s, { streamId: 57, streamKey: 'node_memory_used_bytes{host="vm"}', floor: 0 })).toBe(
      'point anomaly on node_memory_used_bytes{host="vm"}: robust-z 5.1σ; expected 0 [0, 4.71e+6], actual 80',
    );
  });
  it("keeps negative bands for metrics that can go negative, and other ids alone", () => {
    expect(readableSummary(s, { streamId: 57, streamKey: "temp_delta", floor: -Infinity })).toBe(s.replace("on 57", "on temp_delta"));
    expect(readableSummary(s, { streamId: 5, streamKey: "x", floor: -Infinity })).toBe(s);
    expect(readableSummary("gap anomaly on 57", { streamId: 57, streamKey: "a$1b", floor: 0 })).toBe("gap anomaly on a$1b");
  });
  it("knows which metrics are non-negative", () => {
    expect(isNonNegativeMetric({ metric: "node_load1" })).toBe(true);
    expect(isNonNegativeMetric({ metric: "host_load15" })).toBe(true);
    expect(isNonNegativeMetric({ metric: "http_requests_total", kind: "counter" })).toBe(true);
    expect(isNonNegativeMetric({ metric: "checkout_latency_ms" })).toBe(true);
    expect(isNonNegativeMetric({ metric: "anything", unit: "bytes" })).toBe(true);
    expect(isNonNegativeMetric({ metric: "temperature_delta_celsius" })).toBe(false);
    expect(domainFloor({ metric: "pnl_usd" })).toBe(-Infinity);
  });
});
