import { describe, expect, it } from "vitest";
import { backtestRows, fromLocalInput, toLocalInput } from "./backtest-rows";

const a = (streamId: number, startMs: number) => ({ streamId, streamKey: `s${streamId}`, startMs, endMs: startMs + 60_000, peakScore: 90, severity: "high" as const, truth: false });

describe("backtestRows", () => {
  it("merges the sides' anomalies by stream and start, newest first", () => {
    const rows = backtestRows({ live: [a(1, 100), a(2, 100)], current: [a(1, 100)], proposed: [a(1, 100), a(1, 500)] });
    expect(rows.map((r) => [r.key, r.in.live, r.in.current, r.in.proposed])).toEqual([
      ["1@500", false, false, true],
      ["1@100", true, true, true],
      ["2@100", true, false, false],
    ]);
  });

  it("round-trips a local datetime input to the minute", () => {
    const t = Date.UTC(2014, 6, 3, 9, 15);
    expect(fromLocalInput(toLocalInput(t))).toBe(t);
    expect(fromLocalInput("")).toBeNull();
  });
});
