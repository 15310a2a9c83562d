import { describe, expect, it } from "vitest";
import { LogProgressWatch } from "./log-progress";

describe("LogProgressWatch", () => {
  it("counts the time messages wait while no partition cursor moves", () => {
    const w = new LogProgressWatch();
    expect(w.observe(0, 5, [{ partition: 0, msgSeq: 10 }])).toBe(0);
    expect(w.observe(10_000, 5, [{ partition: 0, msgSeq: 10 }])).toBe(10_000);
    expect(w.observe(40_000, 7, [{ partition: 0, msgSeq: 10 }])).toBe(40_000);
    // the cursor moves: progress, the wait starts over
    expect(w.observe(41_000, 7, [{ partition: 0, msgSeq: 12 }])).toBeNull();
    expect(w.observe(45_000, 7, [{ partition: 0, msgSeq: 12 }])).toBe(4_000);
  });

  it("is not stalled while nothing waits, whatever the cursors do", () => {
    const w = new LogProgressWatch();
    expect(w.observe(0, 0, [{ partition: 0, msgSeq: 10 }])).toBeNull();
    expect(w.observe(60_000, 0, [])).toBeNull();
    expect(w.observe(61_000, null, [])).toBeNull();
    expect(w.observe(62_000, 3, [])).toBe(0);
  });

  it("does not count a partition reappearing (moved to another worker) as progress", () => {
    const w = new LogProgressWatch();
    w.observe(0, 4, [{ partition: 0, msgSeq: 10 }, { partition: 1, msgSeq: 20 }]);
    expect(w.observe(5_000, 4, [{ partition: 0, msgSeq: 10 }])).toBe(5_000);
    expect(w.observe(20_000, 4, [{ partition: 0, msgSeq: 10 }, { partition: 1, msgSeq: 20 }])).toBe(20_000);
    // a partition seen for the first time is a baseline, not progress
    expect(w.observe(25_000, 4, [{ partition: 0, msgSeq: 10 }, { partition: 1, msgSeq: 20 }, { partition: 2, msgSeq: 3 }])).toBe(25_000);
  });
});
