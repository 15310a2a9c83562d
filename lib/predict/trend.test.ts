import { describe, expect, it } from "vitest";
import { levelExceedance, TrendTracker } from "./trend";

const MIN = 60_000;
const DAY = 1440;

/** A daily cycle (period 1 day) with deterministic noise, 1-minute steps. */
function daily(i: number, amp = 10): number {
  const noise = (((i * 7919) % 101) / 101 - 0.5) * 2;
  return 50 + amp * Math.sin((2 * Math.PI * i) / DAY) + noise;
}

function run(series: (i: number) => number, rows: number, at: number[]) {
  const tr = new TrendTracker(1);
  const out = new Map<number, ReturnType<TrendTracker["project"]>>();
  for (let i = 0; i < rows; i++) {
    tr.observe(i * MIN, [series(i)]);
    if (at.includes(i)) {
      const r = tr.levelRange(0, i * MIN);
      out.set(i, r ? tr.project(0, i * MIN, 30 * MIN, r.low - 0.25 * (r.high - r.low), r.high + 0.25 * (r.high - r.low)) : { probability: 0, slopePerMs: 0, projected: NaN, direction: null });
    }
  }
  return out;
}

describe("TrendTracker", () => {
  it("does not take a normal daily ramp for a trend", () => {
    const checks = Array.from({ length: 48 }, (_, h) => 2 * DAY + h * 60);
    for (const p of run((i) => daily(i, 30), 4 * DAY, checks).values()) expect(p.probability).toBeLessThan(0.01);
  });

  it("predicts a steady drift before it leaves the week's level range, and says which way", () => {
    const start = 3 * DAY;
    // +0.2 per minute on top of the cycle: past the range's top (≈ 60 + 25 % of its width) after ~2 h
    const drift = (i: number) => daily(i) + (i >= start ? 0.2 * (i - start) : 0);
    const r = run(drift, start + 240, [start + 15, start + 150]);
    expect(r.get(start + 15)!.probability).toBeLessThan(0.5); // a quarter of an hour of drift: not yet a trend
    const later = r.get(start + 150)!;
    expect(later.probability).toBeGreaterThan(0.5);
    expect(later.direction).toBe("above");
    const down = run((i) => daily(i) - (i >= start ? 0.2 * (i - start) : 0), start + 240, [start + 150]).get(start + 150)!;
    expect(down.direction).toBe("below");
    expect(down.probability).toBeGreaterThan(0.5);
  });

  it("says nothing before it holds a day of history", () => {
    const r = run((i) => 0.5 * i, DAY - 10, [DAY - 20]);
    expect(r.get(DAY - 20)!.probability).toBe(0);
  });

  it("is robust to wild points: single outliers do not make a trend", () => {
    const spiky = (i: number) => daily(i) + (i % 97 === 0 ? 500 : 0);
    const checks = Array.from({ length: 24 }, (_, h) => 2 * DAY + h * 60);
    for (const p of run(spiky, 3 * DAY, checks).values()) expect(p.probability).toBeLessThan(0.5);
  });

  it("levelExceedance: the range widened by a quarter, the same probability, and when the level crosses", () => {
    const start = 3 * DAY;
    const tr = new TrendTracker(1);
    const at = start + 60;
    for (let i = 0; i < at; i++) tr.observe(i * MIN, [daily(i) + (i >= start ? 0.2 * (i - start) : 0)]);
    const lr = tr.levelRange(0, at * MIN)!;
    const ex = levelExceedance(tr, 0, at * MIN, 30 * MIN)!;
    const w = lr.high - lr.low;
    expect(ex.high).toBeCloseTo(lr.high + 0.25 * w, 9);
    expect(ex.low).toBeCloseTo(lr.low - 0.25 * w, 9);
    expect(ex.probability).toBe(tr.project(0, at * MIN, 30 * MIN, ex.low, ex.high).probability);
    expect(ex.direction).toBe("above");
    // the drift is still below the edge now and past it at the horizon: the crossing lies between
    expect(ex.etaMs!).toBeGreaterThan(at * MIN);
    expect(ex.etaMs!).toBeLessThanOrEqual(at * MIN + 30 * MIN);
    const early = new TrendTracker(1);
    for (let i = 0; i < DAY - 10; i++) early.observe(i * MIN, [daily(i)]);
    expect(levelExceedance(early, 0, (DAY - 10) * MIN, 30 * MIN)).toBeNull();
  });
});
