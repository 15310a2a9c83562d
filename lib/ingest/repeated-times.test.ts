import { describe, expect, it } from "vitest";
import { describeRepeats, dropRepeatedTimes } from "./repeated-times";

describe("a stream's repeated times in one file", () => {
  it("keeps the first sample at each time in file order, the others in their order, and counts the dropped", () => {
    const s = { tsMs: [30, 10, 20, 10, 30, 10, 40], values: [1, 2, 3, 4, 5, 6, 7] };
    expect(dropRepeatedTimes(s)).toEqual({ dropped: 3, examples: [{ tsMs: 10, given: 3 }, { tsMs: 30, given: 2 }] });
    expect(s).toEqual({ tsMs: [30, 10, 20, 40], values: [1, 2, 3, 7] });
  });

  it("leaves a series without repeats as it is, sorted or not", () => {
    const sorted = { tsMs: [1, 2, 3], values: [1, 2, 3] };
    const shuffled = { tsMs: [3, 1, 2], values: [1, 2, 3] };
    expect(dropRepeatedTimes(sorted)).toEqual({ dropped: 0, examples: [] });
    expect(dropRepeatedTimes(shuffled)).toEqual({ dropped: 0, examples: [] });
    expect(shuffled).toEqual({ tsMs: [3, 1, 2], values: [1, 2, 3] });
  });

  it("names at most three repeated times, and counts them all", () => {
    const s = { tsMs: [1, 1, 2, 2, 3, 3, 4, 4, 4], values: [0, 0, 0, 0, 0, 0, 0, 0, 0] };
    expect(dropRepeatedTimes(s)).toEqual({ dropped: 5, examples: [{ tsMs: 1, given: 2 }, { tsMs: 2, given: 2 }, { tsMs: 3, given: 2 }] });
    expect(s.tsMs).toEqual([1, 2, 3, 4]);
  });

  it("words the skipped samples for an answer, with the first three examples", () => {
    expect(describeRepeats(0, [])).toBe("");
    expect(describeRepeats(1, ["m at 2023-11-14T22:13:20.000Z: 2 samples, the first in the file kept"])).toBe(
      "1 sample is skipped: each repeats a time its stream already has earlier in the file, and only the first is stored (e.g. m at 2023-11-14T22:13:20.000Z: 2 samples, the first in the file kept).",
    );
    expect(describeRepeats(9, ["a", "b", "c", "d"])).toMatch(/^9 samples are skipped: .*\(e\.g\. a; b; c\)\.$/);
  });
});
