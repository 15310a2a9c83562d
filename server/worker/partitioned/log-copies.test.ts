import { describe, expect, it } from "vitest";
import { LateSamples } from "../pipeline/late-samples";
import { copiedMessages } from "./log-copies";

function lateOf(rows: [id: number, tsMs: number, seq: number][]): LateSamples {
  const late = new LateSamples();
  for (const [id, tsMs, seq] of rows) late.put(0, id, tsMs, 1, seq);
  return late;
}
const noRun = { streamIds: [], tsMs: [] };

describe("copiedMessages", () => {
  it("a genuinely late message (no score anywhere) is not a copy", () => {
    const late = lateOf([[1, 1000, 7], [2, 1000, 7]]);
    expect(copiedMessages(late, new Uint8Array([0, 0]), noRun)).toEqual(new Set());
  });

  it("a message with a late sample that has a stored score is a copy, whole", () => {
    // sample 2@1000 was superseded within its step in the original (no score); the message is still a copy
    const late = lateOf([[1, 1000, 7], [2, 1000, 7], [3, 5000, 8]]);
    expect(copiedMessages(late, new Uint8Array([1, 0, 0]), noRun)).toEqual(new Set([7]));
  });

  it("a copy of a message scored earlier in the same run is a copy", () => {
    const late = lateOf([[1, 1000, 9], [4, 2000, 9]]);
    expect(copiedMessages(late, new Uint8Array(2), { streamIds: [1, 5], tsMs: [1000, 1000] })).toEqual(new Set([9]));
  });

  it("of two messages of the run with the same late sample, the later one is the copy", () => {
    const late = lateOf([[1, 1000, 7], [1, 1000, 12], [2, 3000, 12]]);
    expect(copiedMessages(late, new Uint8Array(3), noRun)).toEqual(new Set([12]));
  });

  it("LateSamples.retain keeps only the accepted messages' samples, in order", () => {
    const late = lateOf([[1, 1000, 7], [2, 1000, 12], [3, 3000, 7]]);
    late.retain((seq) => seq !== 12);
    expect([late.n, late.at(0), late.at(1)]).toEqual([2, { id: 1, tsMs: 1000, seq: 7 }, { id: 3, tsMs: 3000, seq: 7 }]);
  });
});
