import { describe, expect, it } from "vitest";
import { incidentReportMarkdown, type ReportInput } from "./incident-report";

const T = Date.UTC(2026, 10, 22, 3, 0, 0);

const input: ReportInput = {
  generatedAtMs: T + 3_600_000,
  link: "http://omen.example/anomalies/abc",
  anomaly: {
    id: "abc",
    streamKey: 'api_latency_ms{service="shop"}',
    source: "shop",
    type: "point",
    severity: "high",
    status: "acknowledged",
    label: "true_anomaly",
    peakScore: 97.4,
    startMs: T,
    endMs: T + 10 * 60_000,
    summary: "robust-z and holt-winters flagged 600 ms against an expected 100 ms.",
  },
  originKey: 'db_latency_ms{service="shop"}',
  causes: [
    { rank: 1, key: 'db_latency_ms{service="shop"}', share: 0.61, offsetSec: -180, peakScore: 99, correlation: 0.82, isReference: false },
    { rank: 2, key: 'api_latency_ms{service="shop"}', share: 0.39, offsetSec: 0, peakScore: 97, correlation: 1, isReference: true },
    { rank: 3, key: "a|b", share: 0, offsetSec: null, peakScore: null, correlation: null, isReference: false },
  ],
  timeline: [
    { key: 'db_latency_ms{service="shop"}', offsetSec: -180, onsetMs: T - 180_000, peakScore: 99, severity: "high", correlation: 0.82, isReference: false },
    { key: 'api_latency_ms{service="shop"}', offsetSec: 0, onsetMs: T, peakScore: 97, severity: "high", correlation: 1, isReference: true },
  ],
  feedback: [
    { createdAtMs: T + 20 * 60_000, author: "alice", label: "true_anomaly", comment: null },
    { createdAtMs: T + 25 * 60_000, author: "bob", label: null, comment: "DB failover at 02:57.\nRolled back." },
  ],
};

describe("incidentReportMarkdown", () => {
  const md = incidentReportMarkdown(input);

  it("has the summary, explanation, ranked streams, timeline, labels and comments", () => {
    expect(md).toContain('# Post-mortem (draft): point anomaly on `api_latency_ms{service="shop"}`');
    expect(md).toContain("- **Started:** 2026-11-22T03:00:00Z");
    expect(md).toContain("lasted 10 min");
    expect(md).toContain("**label:** True anomaly");
    expect(md).toContain('- **Probable origin:** `db_latency_ms{service="shop"}`');
    expect(md).toContain("robust-z and holt-winters flagged 600 ms");
    expect(md).toContain('| 1 | `db_latency_ms{service="shop"}` **origin** | 61 % | 3 min 0 s before | 99 | 0.82 |');
    expect(md).toContain('| 2 | `api_latency_ms{service="shop"}` (this anomaly) | 39 % | 0 s | 97 | – |');
    expect(md).toContain("| 3 | `a\\|b` | 0 % | – | – | not enough data |");
    const timeline = md.slice(md.indexOf("## Timeline"), md.indexOf("## Labels"));
    const lines = timeline.split("\n").filter((l) => l.startsWith("- "));
    expect(lines).toEqual([
      '- 2026-11-22T02:57:00Z — Anomaly on `db_latency_ms{service="shop"}` (high), 3 min 0 s before this one',
      '- 2026-11-22T03:00:00Z — **This anomaly opened** on `api_latency_ms{service="shop"}` (peak 97)',
      "- 2026-11-22T03:10:00Z — Anomaly ended",
      "- 2026-11-22T03:20:00Z — alice labelled it True anomaly",
      "- 2026-11-22T03:25:00Z — bob commented: “DB failover at 02:57. Rolled back.”",
    ]);
    expect(md).toContain("  > DB failover at 02:57.\n  > Rolled back.");
    expect(md).toContain("## Action items");
  });

  it("reads sensibly for an ongoing anomaly with no origin, causes or feedback", () => {
    const md2 = incidentReportMarkdown({ ...input, anomaly: { ...input.anomaly, endMs: null, label: null, summary: null }, originKey: null, causes: [], timeline: [], feedback: [] });
    expect(md2).toContain("- **Ended:** ongoing");
    expect(md2).toContain("none found");
    expect(md2).toContain("_No explanation recorded._");
    expect(md2).toContain("_None yet._");
    expect(md2).toContain("**This anomaly opened**");
    expect(md2).not.toContain("Anomaly ended");
  });

  it("keeps stream keys with backticks in inline code", () => {
    const md3 = incidentReportMarkdown({ ...input, anomaly: { ...input.anomaly, streamKey: "we`ird" } });
    expect(md3).toContain("`` we`ird ``");
  });
});
