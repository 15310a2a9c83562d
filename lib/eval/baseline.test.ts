import { describe, expect, it } from "vitest";
import { rollingZScore } from "./baseline";
import { createRng } from "../scenarios/rng";
import { evaluateDetection } from "./metrics";

describe("rollingZScore baseline", () => {
  const n = 600;
  const rng = createRng(11);
  const values = Float64Array.from({ length: n }, () => 50 + 2 * rng.gaussian());
  for (let i = 400; i < 405; i++) values[i] = (values[i] ?? 0) + 40; // obvious spike
  values[200] = Number.NaN;
  const ts = Float64Array.from({ length: n }, (_, i) => i * 60_000);

  it("detects an obvious spike, scores it high, and stays mostly quiet elsewhere", () => {
    const out = rollingZScore({ columns: [{ values }] });
    expect(out.isAnomaly[400]).toBe(1);
    expect(out.score[400]).toBeGreaterThan(90);
    expect(out.isAnomaly[200]).toBe(0); // missing value: no score
    const m = evaluateDetection({ timestampsMs: ts, isAnomaly: out.isAnomaly, truth: [{ startMs: 400 * 60_000, endMs: 404 * 60_000 }], toleranceMs: 0 });
    expect(m.recall).toBe(1);
    expect(m.detectionDelaySec).toBe(0);
    expect(m.fpr).toBeLessThan(0.02);
  });

  it("is causal: future rows do not change past scores, and input is not mutated", () => {
    const copy = Float64Array.from(values);
    const full = rollingZScore({ columns: [{ values }] });
    const prefix = rollingZScore({ columns: [{ values: values.slice(0, 402) }] });
    expect(Array.from(prefix.score)).toEqual(Array.from(full.score.slice(0, 402)));
    expect(Array.from(values)).toEqual(Array.from(copy));
  });

  it("takes the max |z| over streams and needs minPoints before scoring", () => {
    const flat = Float64Array.from({ length: n }, (_, i) => 10 + (i % 7));
    const out = rollingZScore({ columns: [{ values: flat }, { values }] });
    expect(out.isAnomaly[402]).toBe(1);
    expect(Array.from(out.score.slice(0, 30)).every((s) => s === 0)).toBe(true);
  });
});
