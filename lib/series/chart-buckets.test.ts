import { describe, expect, it } from "vitest";
import { chartBucketMs, FIVE_MINUTES_MS } from "./chart-buckets";

const DAY = 86_400_000;

describe("chartBucketMs", () => {
  it("keeps whole seconds up to five minutes", () => {
    expect(chartBucketMs(3_600_000, 2016)).toBe(2000);
    expect(chartBucketMs(DAY, 2016)).toBe(43_000);
    expect(chartBucketMs(10, 2000)).toBe(1000);
    expect(chartBucketMs(0, 2000)).toBe(1000);
    expect(chartBucketMs(7 * DAY, 2016)).toBe(FIVE_MINUTES_MS);
  });

  it("rounds wider buckets up to whole five minutes", () => {
    expect(chartBucketMs(7 * DAY + 1, 2016)).toBe(2 * FIVE_MINUTES_MS);
    expect(chartBucketMs(30 * DAY, 2016)).toBe(5 * FIVE_MINUTES_MS);
    expect(30 * DAY / chartBucketMs(30 * DAY, 2016)).toBe(1728);
    expect(chartBucketMs(400 * DAY, 2016)).toBe(58 * FIVE_MINUTES_MS);
    for (const span of [5 * DAY, 9 * DAY, 30 * DAY, 90 * DAY, 400 * DAY]) {
      for (const points of [240, 1000, 2016]) {
        const b = chartBucketMs(span, points);
        if (b > FIVE_MINUTES_MS) expect(b % FIVE_MINUTES_MS).toBe(0);
        // never more buckets than asked for, and at most twice fewer
        expect(Math.ceil(span / b)).toBeLessThanOrEqual(points);
        expect(Math.ceil(span / b)).toBeGreaterThanOrEqual(Math.floor(points / 2));
      }
    }
  });
});
