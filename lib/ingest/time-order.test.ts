import { describe, expect, it } from "vitest";
import { monotoneTimes } from "./time-order";

describe("monotoneTimes", () => {
  it("keeps every row, scoring late and repeated ones at the newest time seen", () => {
    const r = monotoneTimes([10, 20, 20, 15, 30, 5, 30, 40]);
    expect(Array.from(r.effectiveMs)).toEqual([10, 20, 20, 20, 30, 30, 30, 40]);
    expect(r.late).toBe(2);
    expect(r.duplicate).toBe(2);
    expect(r.maxLateMs).toBe(25);
    expect([r.firstLate, r.firstDuplicate]).toEqual([3, 2]);
  });

  it("leaves an ordered axis alone", () => {
    const r = monotoneTimes([1, 2, 3]);
    expect(Array.from(r.effectiveMs)).toEqual([1, 2, 3]);
    expect([r.late, r.duplicate, r.firstLate, r.firstDuplicate]).toEqual([0, 0, -1, -1]);
  });

  it("never yields a decreasing axis on random input", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let k = 0; k < 50; k++) {
      const ts = Array.from({ length: 200 }, () => Math.floor(rnd() * 100));
      const r = monotoneTimes(ts);
      for (let i = 1; i < ts.length; i++) expect(r.effectiveMs[i]).toBeGreaterThanOrEqual(r.effectiveMs[i - 1]!);
      expect(r.late + r.duplicate).toBe(ts.filter((t, i) => i > 0 && t <= Math.max(...ts.slice(0, i))).length);
    }
  });
});
