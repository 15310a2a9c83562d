import { describe, expect, it } from "vitest";
import { formatAge, freshWhateverStepSince, isHistorical, isStale, typicalStep } from "./freshness";

const T = 1_700_000_000_000;
const H = 3_600_000;

describe("freshness", () => {
  it("history is judged by the data's age when detected, not by today's date", () => {
    // Imported in 2026 from 2014: historical whatever the clock says now.
    expect(isHistorical({ startMs: Date.UTC(2014, 1, 1), endMs: Date.UTC(2014, 1, 1, 2), createdAtMs: T })).toBe(true);
    // Detected live three years ago: still live (not historical) in any later read.
    expect(isHistorical({ startMs: T - 60_000, endMs: null, createdAtMs: T })).toBe(false);
    // A live anomaly that went on for hours after it was opened.
    expect(isHistorical({ startMs: T - 60_000, endMs: T + 5 * H, createdAtMs: T })).toBe(false);
    // An import whose open run started two hours before it was seen.
    expect(isHistorical({ startMs: T - 2 * H, endMs: null, createdAtMs: T })).toBe(true);
  });
  it("stale after several usual steps, at least five minutes", () => {
    expect(typicalStep([0, 10_000, 20_000, 30_000, 100_000])).toBe(10_000);
    expect(typicalStep([5])).toBe(0);
    expect(isStale(T - 4 * 60_000, 10_000, T)).toBe(false);
    expect(isStale(T - 6 * 60_000, 10_000, T)).toBe(true);
    expect(isStale(T - 4 * H, H, T)).toBe(false);
    expect(isStale(T - 6 * H, H, T)).toBe(true);
    expect(isStale(null, 0, T)).toBe(true);
  });
  it("a sample since freshWhateverStepSince is fresh whatever the step; before it, the step decides", () => {
    const since = freshWhateverStepSince(T);
    for (const step of [0, 1000, 10_000, H, 24 * H]) {
      for (const last of [since, since + 1, T - 1000, T]) expect(isStale(last, step, T), `${step} ${last}`).toBe(false);
    }
    expect(isStale(since - 1, 0, T)).toBe(true);
    expect(isStale(since - 1, H, T)).toBe(false);
  });
  it("formats ages", () => {
    expect(formatAge(T - 12_000, T)).toBe("12 s ago");
    expect(formatAge(T - 4 * 60_000, T)).toBe("4 min ago");
    expect(formatAge(T - 3 * H, T)).toBe("3 h ago");
    expect(formatAge(T - 72 * H, T)).toBe("3 d ago");
    expect(formatAge(T - 3 * 365 * 24 * H, T)).toBe("3 y ago");
    expect(formatAge(null, T)).toBe("no samples");
    expect(formatAge(T + 5000, T)).toBe("0 s ago");
  });
});
