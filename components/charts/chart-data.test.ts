import { describe, expect, it } from "vitest";
import { appendForecast, buildChartRows, clipRowsToFloor, formatTick, formatValue } from "./chart-data";

describe("buildChartRows", () => {
  it("breaks the line at gaps instead of bridging them", () => {
    const values = [0, 10, 20, 30, 100, 110].map((t) => ({ t, v: t }));
    const rows = buildChartRows(values, []);
    const gap = rows.findIndex((r) => r.v === null);
    expect(gap).toBe(4);
    expect(rows[gap]!.t).toBe(40);
    expect(rows).toHaveLength(7);
  });
  it("attaches the latest score and band at or before each value", () => {
    const rows = buildChartRows(
      [{ t: 0, v: 1 }, { t: 10, v: 2 }, { t: 20, v: 9 }],
      [
        { t: 0, score: 5, expected: 1, lower: 0, upper: 2 },
        { t: 20, score: 90, expected: 2, lower: 1, upper: 3 },
      ],
    );
    expect(rows.map((r) => r.score)).toEqual([5, 5, 90]);
    expect(rows[2]!.band).toEqual([1, 3]);
  });
});

describe("formatValue", () => {
  it("renders bytes, percent and large numbers readably", () => {
    expect(formatValue(1536, "bytes")).toBe("1.5 KiB");
    expect(formatValue(42.123, "percent")).toBe("42.12%");
    expect(formatValue(2_500_000, "")).toBe("2.50M");
    expect(formatValue(null)).toBe("–");
  });
});

describe("appendForecast", () => {
  it("adds only future rows, carrying the forecast and its band", () => {
    const rows = buildChartRows([{ t: 0, v: 1 }, { t: 10, v: 2 }], []);
    const out = appendForecast(rows, { t: [5, 20, 30], expected: [9, 3, 4], lower: [8, 2, 3], upper: [10, 4, 5] });
    expect(out.map((r) => r.t)).toEqual([0, 10, 20, 30]);
    expect(out[2]).toMatchObject({ v: null, forecast: 3, forecastBand: [2, 4] });
    expect(appendForecast(rows, null)).toBe(rows);
  });
});

describe("clipRowsToFloor", () => {
  it("never draws a band below a non-negative metric's 0", () => {
    const rows = [{ t: 1, v: 0.2, expected: -0.1, band: [-0.5, 0.9] as [number, number], score: 10 }];
    expect(clipRowsToFloor(rows, 0)).toEqual([{ t: 1, v: 0.2, expected: 0, band: [0, 0.9], score: 10 }]);
    expect(clipRowsToFloor(rows, -Infinity)).toBe(rows);
  });
});

describe("formatTick", () => {
  it("drops the decimals of whole ticks, keeps units and fractional ticks", () => {
    expect(formatTick(85, "ms")).toBe("85 ms");
    expect(formatTick(0, null)).toBe("0");
    expect(formatTick(-20, "percent")).toBe("-20%");
    expect(formatTick(2.5, "ms")).toBe("2.50 ms");
    expect(formatTick(0.25, null)).toBe("0.250");
    expect(formatTick(15000, null)).toBe("15.0k");
    expect(formatTick(2048, "bytes")).toBe("2.0 KiB");
  });
});
