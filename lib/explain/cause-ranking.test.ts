import { describe, expect, it } from "vitest";
import { CauseRanker, hitRate, rankEvidence } from "./cause-ranking";

const row = (score: number[], value: number[], expected: number[], sigma: number[]) => ({ score, value, expected, sigma });

describe("CauseRanker", () => {
  it("ranks by score, then by deviation from the forecast when scores saturate", () => {
    const r = new CauseRanker(["a", "b", "c"]);
    r.observe(row([100, 100, 10], [10, 30, 1], [0, 0, 0], [1, 1, 1]), true);
    // a: 1 + 10/10 (capped) = 2, b: 1 + 1 = 2 → tie, table order; c: 0.1 + 0.1
    expect(r.rank().map((c) => c.stream)).toEqual(["a", "b", "c"]);
    r.observe(row([100, 100, 10], [2, 30, 1], [0, 0, 0], [1, 1, 1]), true);
    // evidence is the largest contribution since the anomaly began: a keeps its 2
    expect(Array.from(r.evidence)).toEqual([2, 2, 0.2]);
  });

  it("keeps the first mover ahead while the anomaly lasts, and forgets it on a quiet row", () => {
    const r = new CauseRanker(["db", "api"]);
    r.observe(row([95, 5], [50, 1], [10, 1], [2, 1]), true);
    r.observe(row([70, 90], [20, 9], [10, 1], [2, 1]), true);
    expect(r.rank()[0]!.stream).toBe("db");
    r.observe(row([0, 0], [10, 1], [10, 1], [2, 1]), false);
    expect(r.rank()).toEqual([]);
  });

  it("ignores missing values and counts a move of a constant stream as a full deviation", () => {
    const r = new CauseRanker(["x", "flat"]);
    r.observe(row([0, 0], [NaN, 2], [1, 1], [1, 0]), true);
    expect(r.rank().map((c) => c.stream)).toEqual(["flat"]);
  });
});

describe("rankEvidence and hitRate", () => {
  it("shares sum to 1 over streams with evidence", () => {
    const ranked = rankEvidence(["a", "b", "c"], [1, 3, 0]);
    expect(ranked).toEqual([
      { stream: "b", share: 0.75 },
      { stream: "a", share: 0.25 },
    ]);
  });

  it("HitRate@P% looks at the first ⌊P·|labelled|⌋ ranked streams", () => {
    const ranked = ["a", "x", "b", "y", "c"];
    expect(hitRate(ranked, ["a", "b"], 100)).toBe(0.5); // top 2: a, x
    expect(hitRate(ranked, ["a", "b"], 150)).toBe(1); // top 3
    expect(hitRate(ranked, ["a", "b", "c"], 150)).toBe(2 / 3); // top 4
    expect(hitRate(ranked, [], 100)).toBeNaN();
  });
});
