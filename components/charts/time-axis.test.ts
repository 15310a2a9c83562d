import { describe, expect, it } from "vitest";
import { timeTicks } from "./time-axis";

const T0 = Date.UTC(2026, 10, 23, 9, 17);
const H = 3_600_000;
const D = 24 * H;

describe("timeTicks", () => {
  it("a 7-day axis names each day once", () => {
    const { ticks, format } = timeTicks(T0, T0 + 7 * D, 8, 0);
    const labels = ticks.map(format);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels).toEqual(["Nov 24", "Nov 25", "Nov 26", "Nov 27", "Nov 28", "Nov 29", "Nov 30"]);
  });
  it("hour ticks carry the date at each new day, never a repeated label", () => {
    for (const span of [15 * 60_000, H, 6 * H, D, 2 * D, 3 * D, 30 * D, 400 * D]) {
      for (const tz of [0, 60, -300, 330]) {
        const { ticks, format } = timeTicks(T0, T0 + span, 8, tz);
        const labels = ticks.map(format);
        expect(ticks.length).toBeGreaterThan(1);
        expect(ticks.length).toBeLessThanOrEqual(9);
        expect(new Set(labels).size, `${span} ${tz}: ${labels.join(" | ")}`).toBe(labels.length);
        for (const t of ticks) expect(t >= T0 && t <= T0 + span).toBe(true);
      }
    }
    const day = timeTicks(T0, T0 + 20 * H, 8, 0);
    expect(day.ticks.map(day.format)).toEqual(["Nov 23 12:00", "15:00", "18:00", "21:00", "Nov 24 00:00", "03:00"]);
  });
  it("a year-long import shows years", () => {
    const from = Date.UTC(2014, 0, 1);
    const { ticks, format } = timeTicks(from, from + 400 * D, 8, 0);
    expect(format(ticks[0]!)).toMatch(/2014$/);
  });
});
