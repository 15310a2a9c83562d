import { describe, expect, it } from "vitest";
import { scoreAgainstTruth } from "./truth";

describe("scoreAgainstTruth", () => {
  it("counts overlapping predictions as hits and overlapped ranges as found, per stream", () => {
    const truth = [
      { streamId: 1, startMs: 100, endMs: 200 },
      { streamId: 1, startMs: 500, endMs: 600 },
      { streamId: 2, startMs: 100, endMs: 200 },
    ];
    const predicted = [
      { streamId: 1, startMs: 150, endMs: 160 }, // hit
      { streamId: 1, startMs: 300, endMs: 310 }, // false alarm
      { streamId: 2, startMs: 500, endMs: 550 }, // stream 2 has no range there: false alarm
      { streamId: 1, startMs: 590, endMs: null }, // open until the end of data: overlaps 500–600
    ];
    const s = scoreAgainstTruth(predicted, truth, 1000);
    expect(s).toEqual({ ranges: 3, found: 2, predicted: 4, hits: 2, precision: 0.5, recall: 2 / 3 });
  });

  it("leaves precision and recall undefined when there is nothing to divide by", () => {
    expect(scoreAgainstTruth([], [], 0)).toMatchObject({ precision: null, recall: null });
  });
});
