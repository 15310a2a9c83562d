import { describe, expect, it } from "vitest";
import { normalCdf } from "./normal";

describe("normalCdf", () => {
  it("matches known values", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 5);
    expect(normalCdf(-3)).toBeCloseTo(0.0013499, 6);
    expect(normalCdf(Number.POSITIVE_INFINITY)).toBe(1);
  });
});
