import { describe, expect, it } from "vitest";
import { formatShortTime, formatTime } from "./anomaly-format";

describe("formatShortTime", () => {
  const now = new Date(2026, 11, 7, 18, 0).getTime();

  it("gives this year's times to the minute, without the year or seconds", () => {
    const t = new Date(2026, 11, 7, 17, 47, 40).getTime();
    expect(formatShortTime(t, now, "en-US")).toBe("Dec 7, 5:47 PM");
    // shorter than the full form the detail rows use
    expect(formatShortTime(t, now, "en-US").length).toBeLessThan(formatTime(t).length);
  });

  it("gives an earlier year's anomalies their date with the year", () => {
    expect(formatShortTime(new Date(2014, 1, 3, 9, 5).getTime(), now, "en-US")).toBe("Feb 3, 2014");
  });
});
