import { describe, expect, it } from "vitest";
import { CauseRanker, contribution, hitRate, rankEvidence, windowEvidence } from "./cause-ranking";

const row = (score: number[], value: number[], expected: number[], sigma: number[]) => ({ score, value, expected, sigma });
const MIN = 60_000;

describe("CauseRanker", () => {
  it("ranks by score, then by deviation from the forecast when scores saturate", () => {
    const r = new CauseRanker(["a", "b", "c"], { lookbackMs: 0 });
    r.observe(0, row([100, 100, 10], [10, 30, 1], [0, 0, 0], [1, 1, 1]), true);
    // a: 1 + 10/10 (capped) = 2, b: 1 + 1 = 2 → tie, table order; c: 0.1 + 0.1
    expect(r.rank().map((c) => c.stream)).toEqual(["a", "b", "c"]);
    r.observe(MIN, row([100, 100, 10], [2, 30, 1], [0, 0, 0], [1, 1, 1]), true);
    // evidence is the largest contribution since the anomaly began: a keeps its 2
    expect(Array.from(r.evidence)).toEqual([2, 2, 0.2]);
  });

  it("keeps the first mover ahead while the anomaly lasts, and forgets it on a quiet row", () => {
    const r = new CauseRanker(["db", "api"], { lookbackMs: 0 });
    r.observe(0, row([95, 5], [50, 1], [10, 1], [2, 1]), true);
    r.observe(MIN, row([70, 90], [20, 9], [10, 1], [2, 1]), true);
    expect(r.rank()[0]!.stream).toBe("db");
    r.observe(2 * MIN, row([0, 0], [10, 1], [10, 1], [2, 1]), false);
    expect(r.rank()).toEqual([]);
  });

  it("counts what a stream did in the lookback before the anomaly opened, and nothing older", () => {
    const r = new CauseRanker(["db", "api"], { lookbackMs: 10 * MIN });
    r.observe(0, row([40, 0], [10, 1], [10, 1], [2, 1]), false); // 20 min before the alarm: too old
    r.observe(12 * MIN, row([45, 0], [30, 1], [10, 1], [2, 1]), false); // db broke, not yet flagged
    r.observe(20 * MIN, row([10, 80], [12, 3], [10, 1], [2, 1]), true); // the alarm is on the API
    expect(r.rank().map((c) => c.stream)).toEqual(["db", "api"]);
    expect(r.evidence[0]).toBeCloseTo(contribution(45, 30, 10, 2), 12); // 0.45 + 10/10
  });

  it("ignores missing values and counts a move of a constant stream as a full deviation", () => {
    const r = new CauseRanker(["x", "flat"]);
    r.observe(0, row([0, 0], [NaN, 2], [1, 1], [1, 0]), true);
    expect(r.rank().map((c) => c.stream)).toEqual(["flat"]);
  });

  it("streaming evidence equals the batch window evidence at every flagged row", () => {
    const n = 4;
    const rows = 300;
    const streams = ["a", "b", "c", "d"];
    const r = new CauseRanker(streams, { lookbackMs: 7 * MIN });
    const series = streams.map(() => ({ t: [] as number[], c: [] as number[] }));
    let onset = Number.NaN;
    let prevFlagged = false;
    for (let i = 0; i < rows; i++) {
      const t = i * MIN;
      const sc = Array.from({ length: n }, (_, k) => (Math.sin(i * 0.37 + k * 1.3) + 1) * 50);
      const x = Array.from({ length: n }, (_, k) => Math.cos(i * 0.11 * (k + 1)) * 3);
      const row1 = row(sc, x, [0, 0, 0, 0], [1, 1, 1, 1]);
      const flagged = Math.sin(i * 0.05) > 0.6;
      r.observe(t, row1, flagged);
      series.forEach((s, k) => {
        s.t.push(t);
        s.c.push(contribution(sc[k]!, x[k]!, 0, 1));
      });
      if (flagged && !prevFlagged) onset = t;
      prevFlagged = flagged;
      if (flagged) expect(Array.from(r.evidence)).toEqual(Array.from(windowEvidence(series, onset, t, 7 * MIN)));
    }
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
