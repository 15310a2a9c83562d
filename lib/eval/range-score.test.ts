import { describe, expect, it } from "vitest";
import { candidateThresholds, labelEvents, meanRange, rangeScore } from "./range-score";

/**
 * Expected figures: these two label/score files scored once with the reference tool
 * (`../shared/tools/smd-score.mjs --threshold 0.6`), copied here.
 */
const lab1 = Array.from({ length: 30 }, (_, i) => ([5, 6, 7, 8, 20, 21].includes(i) ? 1 : 0));
const sc1 = [0.1, 0.2, 0.7, 0.1, 0.1, 0.3, 0.8, 0.9, 0.2, 0.1, 0.65, 0.65, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.55, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.75, 0.1];
const lab2 = Array.from({ length: 20 }, (_, i) => ([3, 4, 5, 15].includes(i) ? 1 : 0));
const sc2 = [0.1, 0.1, 0.1, 0.4, 0.6, 0.2, 0.1, 0.1, 0.6, 0.6, 0.6, 0.1, 0.1, 0.1, 0.1, 0.3, 0.1, 0.1, 0.1, 0.1];

describe("range-based scores", () => {
  it("finds label events", () => {
    expect(labelEvents(lab1)).toEqual([[5, 8], [20, 21]]);
  });

  it("matches the reference at a declared threshold", () => {
    const r = rangeScore(sc1, lab1, { threshold: 0.6 });
    const f = r.fixed!;
    // alarms at 2, 6–7, 10–11, 28: 4 runs, one inside an event; 2 of 6 alarm rows labelled
    expect([f.point.tp, f.point.fp, f.point.fn]).toEqual([2, 4, 4]);
    expect(f.event.precision).toBeCloseTo(0.25, 12);
    expect(f.event.recall).toBeCloseTo(0.5, 12);
    expect(f.composite.f1).toBeCloseTo(0.4, 12);
    expect(rangeScore(sc2, lab2, { threshold: 0.6 }).fixed!.event.f1).toBeCloseTo(0.5, 12);
  });

  it("matches the reference's swept thresholds and means", () => {
    const r1 = rangeScore(sc1, lab1, { threshold: 0.6 });
    expect(r1.swept.point).toMatchObject({ threshold: 0.2 });
    expect(r1.swept.point.f1).toBeCloseTo(0.5882352941, 9);
    expect(r1.swept.event).toMatchObject({ threshold: 0.8, precision: 1, recall: 0.5 });
    expect(r1.swept.composite.threshold).toBe(0.8);
    const r2 = rangeScore(sc2, lab2, { threshold: 0.6 });
    expect(r2.swept.event.f1).toBeCloseTo(0.8, 12);
    const m = meanRange([r1, r2]);
    expect(m.swept.point.f1).toBeCloseTo(0.658, 3);
    expect(m.swept.event.f1).toBeCloseTo(0.733, 3);
    expect(m.swept.composite.f1).toBeCloseTo(0.697, 3);
    expect(m.fixed!.event.f1).toBeCloseTo(0.417, 3);
    expect(m.fixed!.composite.f1).toBeCloseTo(0.367, 3);
  });

  it("thins the candidate thresholds to the grid", () => {
    const s = Array.from({ length: 5000 }, (_, i) => i / 5000);
    const c = candidateThresholds(s, 100);
    expect(c).toHaveLength(100);
    expect(c[0]).toBe(0);
    expect(c[99]).toBe(4999 / 5000);
  });
});
