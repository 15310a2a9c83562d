import { describe, expect, it } from "vitest";
import { COUNTER_MIN_DIFFS, counterStep, looksLikeCounter, tallyCounterSteps } from "./counter-kind";
import { DetectionEngine } from "./engine";

/** Deterministic noise in [−1, 1). */
const noise = (k: number) => {
  const x = Math.sin(k * 12.9898 + 78.233) * 43758.5453;
  return 2 * (x - Math.floor(x)) - 1;
};

/** A request total: rises by 50–150 a step, restarts from 0 at `reset`. */
function counter(n: number, reset = -1): number[] {
  let total = 10_000;
  return Array.from({ length: n }, (_, k) => {
    if (k === reset) total = 0;
    return (total += 100 + 50 * noise(k));
  });
}

/** A gauge that wanders up and down around 50. */
const gauge = (n: number) => Array.from({ length: n }, (_, k) => 50 + 10 * Math.sin(k / 5) + noise(k));

/** What the engine's streaming auto-detection made of a column (after COUNTER_MIN_DIFFS steps). */
function engineKind(values: number[]): string | undefined {
  const e = new DetectionEngine({ autoKind: true });
  e.addStream("x", "gauge");
  values.forEach((v, k) => e.step(1_700_000_000_000 + k * 60_000, ["x"], new Float64Array([v])));
  return e.streamKind("x");
}

describe("counter-like values (the rule shared by the engine and the CSV import)", () => {
  it("a counter with a reset is a counter", () => {
    const c = counter(200, 120);
    expect(tallyCounterSteps(c)).toMatchObject({ diffs: 199, badDrops: 0, nonNegative: true });
    expect(looksLikeCounter(c)).toBe(true);
  });

  it("a gauge that wanders is not", () => {
    expect(looksLikeCounter(gauge(200))).toBe(false);
    // one fall that is no reset is enough
    const c = counter(200);
    c[100] = c[99]! * 0.9;
    expect(looksLikeCounter(c)).toBe(false);
  });

  it("a short column decides gauge", () => {
    expect(looksLikeCounter(counter(COUNTER_MIN_DIFFS))).toBe(false); // 29 steps
    expect(looksLikeCounter(counter(COUNTER_MIN_DIFFS + 1))).toBe(true);
    expect(looksLikeCounter([])).toBe(false);
  });

  it("negative values are a gauge's", () => {
    // rising all the way, but through zero
    expect(looksLikeCounter(Array.from({ length: 100 }, (_, k) => k - 50))).toBe(false);
  });

  it("a flat column is no counter; missing values are skipped", () => {
    expect(looksLikeCounter(Array.from({ length: 100 }, () => 7))).toBe(false);
    const c = counter(100);
    c[10] = Number.NaN;
    expect(looksLikeCounter(c)).toBe(true);
  });

  it("a step: rise, gauge fall, reset", () => {
    expect([counterStep(1, 2), counterStep(10, 9), counterStep(10, 1), counterStep(3, 3), counterStep(3, Number.NaN)]).toEqual([1, -1, 0, 0, 0]);
  });

  it("the engine's auto-detection decides as the batch rule does over the same first steps", () => {
    const cases = [counter(COUNTER_MIN_DIFFS + 1, 12), gauge(COUNTER_MIN_DIFFS + 1), counter(COUNTER_MIN_DIFFS + 1).map((v, k) => (k === 20 ? v * 0.95 : v))];
    for (const c of cases) expect(engineKind(c)).toBe(looksLikeCounter(c) ? "counter" : "gauge");
    expect(cases.map(engineKind)).toEqual(["counter", "gauge", "gauge"]);
  });
});
