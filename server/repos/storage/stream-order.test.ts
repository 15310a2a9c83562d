import { describe, expect, it } from "vitest";
import { inStreamOrder } from "./stream-order";

describe("inStreamOrder", () => {
  it("orders rows by stream id and keeps each stream's rows in the order they came", () => {
    const cols = {
      streamIds: Int32Array.from([7, 3, 7, 1, 3, 7]),
      tsMs: Float64Array.from([30, 10, 10, 5, 20, 20]), // stream 7 sent 30 before 10 and 20: kept so
      values: Float64Array.from([0, 1, 2, 3, 4, 5]),
    };
    const out = inStreamOrder(cols);
    expect(Array.from(out.streamIds)).toEqual([1, 3, 3, 7, 7, 7]);
    expect(Array.from(out.tsMs)).toEqual([5, 10, 20, 30, 10, 20]);
    expect(Array.from(out.values)).toEqual([3, 1, 4, 0, 2, 5]);
  });

  it("returns ordered input as it is", () => {
    const cols = { streamIds: Int32Array.from([1, 1, 2]), tsMs: new Float64Array(3), values: new Float64Array(3) };
    expect(inStreamOrder(cols)).toBe(cols);
  });
});

describe("inStreamOrder with ids far apart", () => {
  it("orders them the same way (key sort instead of counting sort)", () => {
    const cols = { streamIds: Int32Array.from([2 ** 30, 5, 2 ** 30, 4]), tsMs: Float64Array.from([1, 2, 3, 4]), values: new Float64Array(4) };
    const out = inStreamOrder(cols);
    expect(Array.from(out.streamIds)).toEqual([4, 5, 2 ** 30, 2 ** 30]);
    expect(Array.from(out.tsMs)).toEqual([4, 2, 1, 3]);
  });
});
