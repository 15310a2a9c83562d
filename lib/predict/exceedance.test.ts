import { describe, expect, it } from "vitest";
import { exceedance, normalCdf } from "./exceedance";

describe("normalCdf", () => {
  it("matches known values", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 5);
    expect(normalCdf(-3)).toBeCloseTo(0.0013499, 6);
  });
});

describe("exceedance", () => {
  const ts = Array.from({ length: 30 }, (_, i) => 1000 * (i + 1));
  it("predicts a leak crossing the weekly high, with the ETA when the forecast crosses", () => {
    const expected = ts.map((_, i) => 80.5 + i); // +1 per step; crosses the high of 95 at step 15
    const sigma = ts.map(() => 2);
    const r = exceedance({ tsMs: ts, expected, sigma }, { low: 10, high: 95 });
    expect(r.probability).toBeGreaterThan(0.99);
    expect(r.direction).toBe("above");
    expect(r.etaMs).toBe(ts[15]);
  });
  it("gives a flat, in-range forecast a negligible probability", () => {
    const r = exceedance({ tsMs: ts, expected: ts.map(() => 50), sigma: ts.map(() => 5) }, { low: 10, high: 95 });
    expect(r.probability).toBeLessThan(1e-6);
    expect(r.etaMs).toBeNull();
  });
  it("sees a drop below the low end", () => {
    const r = exceedance({ tsMs: ts, expected: ts.map((_, i) => 29.5 - 2 * i), sigma: ts.map(() => 1) }, { low: 0, high: 100 });
    expect(r.direction).toBe("below");
    expect(r.etaMs).toBe(ts[15]);
  });
});
