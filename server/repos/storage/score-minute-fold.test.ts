import { describe, expect, it } from "vitest";
import { ScoreMinuteFold } from "./score-minute-fold";
import type { ScoreColumns } from "./columns";

const cols = (rows: [id: number, tsMs: number, score: number][]): ScoreColumns => ({
  streamIds: rows.map((r) => r[0]),
  tsMs: rows.map((r) => r[1]),
  score: rows.map((r) => r[2]),
  confidence: rows.map((r) => r[2] / 100),
  expected: rows.map((r) => (Number.isNaN(r[2]) ? null : r[2] * 10)),
  lower: rows.map((r) => -r[2]),
  upper: rows.map(() => Number.NaN),
});

describe("ScoreMinuteFold", () => {
  const m0 = 60_000 * 1000;
  it("emits a stream's minute when a later one arrives: peak (NaN-safe), means, extremes, count", () => {
    const f = new ScoreMinuteFold();
    expect(f.add(cols([[3, m0, 10], [3, m0 + 15_000, Number.NaN], [3, m0 + 30_000, 40], [4, m0, 2]]), 0).streamIds).toEqual([]);
    const out = f.add(cols([[3, m0 + 60_000, 1]]), 1000);
    expect(out.streamIds).toEqual([3]);
    expect(out.bucketMs).toEqual([m0]);
    expect(out.score).toEqual([40]);
    expect(out.n).toEqual([3]);
    expect(out.expected[0]).toBe(250); // the NaN score's missing expected is left out
    expect(out.lower).toEqual([-40]);
    expect(out.upper[0]).toBeNaN(); // no band
    expect(out.confidence[0]).toBeNaN(); // NaN confidence in, NaN mean out (the engine never sends one)
  });

  it("keeps NaN as the score of a minute that only had NaN scores", () => {
    const f = new ScoreMinuteFold();
    f.add(cols([[1, m0, Number.NaN]]), 0);
    expect(f.flushAll().score[0]).toBeNaN();
  });

  it("emits idle minutes after two minutes of wall time, and everything on flushAll", () => {
    const f = new ScoreMinuteFold();
    f.add(cols([[1, 0, 5]]), 0);
    f.add(cols([[40, 0, 6]]), 60_000);
    expect(f.add(cols([[80, 0, 7]]), 125_000).streamIds).toEqual([1]); // stream 1 idle 125 s, 40 only 65 s
    expect(f.flushAll().streamIds.sort((a, b) => a - b)).toEqual([40, 80]);
    expect(f.flushAll().streamIds).toEqual([]);
  });
});
