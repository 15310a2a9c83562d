import { describe, expect, it } from "vitest";
import { DetectionEngine } from "./engine";
import { Rng } from "./rng";

const T0 = 1_700_000_000_000;

/** Two streams for 3,000 minutes; stream a gets `spike` at minutes 1500–1502 (NaN = keep normal). */
function run(spike: number, kind: "gauge" | "counter" = "gauge") {
  const e = new DetectionEngine();
  e.addStream("a", kind);
  e.addStream("b", "gauge");
  const rng = new Rng(1);
  const vals = new Float64Array(2);
  const scores: number[] = [];
  let last: { expected: number; lower: number; upper: number; b: number } | null = null;
  let nonFinite = 0;
  let counter = 0;
  for (let r = 0; r < 3000; r++) {
    counter += 5 + rng.next();
    vals[0] = kind === "counter" ? counter : 50 + 5 * Math.sin(r / 50) + rng.next();
    vals[1] = 10 + rng.next();
    if (r >= 1500 && r <= 1502 && spike === spike) vals[0] = spike;
    const res = e.step(T0 + r * 60_000, ["a", "b"], vals);
    scores.push(res.score[0]!);
    if (r > 100) for (const x of [res.score[0]!, res.expected[0]!, res.lower[0]!, res.upper[0]!, res.score[1]!, res.overallScore]) if (!Number.isFinite(x)) nonFinite++;
    last = { expected: res.expected[0]!, lower: res.lower[0]!, upper: res.upper[0]!, b: res.score[1]! };
  }
  return { scores, last: last!, nonFinite };
}

describe("engine input: non-finite and huge values", () => {
  const ordinary = run(1000);
  it.each([1.7976931348623157e308, -1.7976931348623157e308, Infinity, -Infinity, 1e200])("%s scores as an extreme point and leaves no lasting trace", (v) => {
    const r = run(v);
    expect(r.nonFinite).toBe(0);
    expect(r.scores[1500]).toBe(100);
    // the state afterwards is that of an ordinary spike (the band did not blow up)
    expect(r.last.upper - r.last.lower).toBeLessThan(2 * (ordinary.last.upper - ordinary.last.lower));
    expect(Math.abs(r.last.expected - ordinary.last.expected)).toBeLessThan(1);
  });
  it("NaN is a missing value, not a score", () => {
    const r = run(Number.NaN);
    expect(r.nonFinite).toBe(0);
  });
  it("a counter that jumps to +Inf scores finitely", () => {
    const r = run(Infinity, "counter");
    expect(r.nonFinite).toBe(0);
  });
});
