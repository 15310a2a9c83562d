import { describe, expect, it } from "vitest";
import { timelineBars } from "./timeline";

const T = Date.UTC(2025, 4, 1);
const MIN = 60_000;

describe("timelineBars", () => {
  it("puts anomalies on one axis from the first start to the last end", () => {
    const r = timelineBars(
      [
        { id: "a", startMs: T, endMs: T + 5 * MIN },
        { id: "b", startMs: T + 5 * MIN, endMs: T + 10 * MIN },
      ],
      T + 60 * MIN,
    );
    expect(r.fromMs).toBe(T);
    expect(r.toMs).toBe(T + 10 * MIN);
    expect(r.bars).toEqual([
      { id: "a", leftPct: 0, widthPct: 50, ongoing: false },
      { id: "b", leftPct: 50, widthPct: 50, ongoing: false },
    ]);
  });

  it("runs an ongoing anomaly to now and keeps an instant visible", () => {
    const r = timelineBars(
      [
        { id: "a", startMs: T, endMs: T },
        { id: "b", startMs: T + 2 * MIN, endMs: null },
      ],
      T + 4 * MIN,
    );
    expect(r.toMs).toBe(T + 4 * MIN);
    expect(r.bars[0]!.widthPct).toBeCloseTo(0.8);
    expect(r.bars[1]).toEqual({ id: "b", leftPct: 50, widthPct: 50, ongoing: true });
  });

  it("spreads a single instant over a minute, and is empty without anomalies", () => {
    expect(timelineBars([{ id: "a", startMs: T, endMs: T }], T).toMs).toBe(T + MIN);
    expect(timelineBars([], T).bars).toEqual([]);
  });
});
