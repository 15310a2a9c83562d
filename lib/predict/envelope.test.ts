import { describe, expect, it } from "vitest";
import { EnvelopeTracker } from "./envelope";

const H = 3_600_000;

describe("EnvelopeTracker", () => {
  it("gives the second-lowest hourly minimum and second-highest maximum of completed hours", () => {
    const e = new EnvelopeTracker(1, { minBuckets: 3, buckets: 24 });
    const hours = [[1, 5], [0, 9], [2, 4], [-5, 20]];
    hours.forEach(([lo, hi], h) => {
      e.observe(h * H, [lo!]);
      e.observe(h * H + 60_000, [hi!]);
      if (h < 3) expect(e.envelope(0)).toBeNull(); // fewer than 3 completed hours so far
    });
    e.observe(4 * H, [100]); // closes hour 3; the new hour's value never widens its own envelope
    expect(e.envelope(0)).toEqual({ low: 0, high: 9 });
  });

  it("forgets hours older than its window, and skipped hours count as empty", () => {
    const e = new EnvelopeTracker(1, { minBuckets: 2, buckets: 3 });
    e.observe(0, [1000]);
    for (let h = 1; h <= 5; h++) e.observe(h * H, [h]);
    e.observe(6 * H, [0]);
    expect(e.envelope(0)).toEqual({ low: 4, high: 4 }); // hours 3, 4, 5 kept: 2nd lowest 4, 2nd highest 4
    e.observe(20 * H, [7]); // a long gap: hours 7–19 are empty
    expect(e.envelope(0)).toBeNull();
  });

  it("keeps streams apart and skips missing values", () => {
    const e = new EnvelopeTracker(2, { minBuckets: 1, buckets: 4 });
    e.observe(0, [1, NaN]);
    e.observe(1000, [3, 5]);
    e.observe(H, [0, 0]);
    expect(e.envelope(0)).toEqual({ low: 1, high: 3 });
    expect(e.envelope(1)).toEqual({ low: 5, high: 5 });
  });
});
