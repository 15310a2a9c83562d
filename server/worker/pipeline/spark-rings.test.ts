import { describe, expect, it } from "vitest";
import { SPARK_KEEP, SparkRings, type SparkState } from "./spark-rings";

const read = (data: Float64Array, from: number, count: number) => Array.from(data.subarray(from, from + count));

describe("SparkRings", () => {
  it("hands out each stream's newest points in time order, across a wrapped ring, and restarts empty", () => {
    const rings = new SparkRings();
    const a: SparkState = { slot: 0, sparkN: 0 };
    const b: SparkState = { slot: 1, sparkN: 0 };
    rings.reserve(0);
    rings.reserve(1);
    for (let q = 0; q < 137; q++) rings.push(a, q, 1000 + q, 0.5 * q); // wraps: 137 % 60 ≠ 0
    for (let q = 0; q < 3; q++) rings.push(b, -q, -1000 - q, q);
    const c = rings.takeAll([b, a]);
    const newest = Array.from({ length: SPARK_KEEP }, (_, j) => 137 - SPARK_KEEP + j);
    expect(Array.from(c.count)).toEqual([3, SPARK_KEEP]);
    expect(read(c.data, c.t[1]!, c.count[1]!)).toEqual(newest);
    expect(read(c.data, c.v[1]!, c.count[1]!)).toEqual(newest.map((q) => 1000 + q));
    expect(read(c.data, c.s[1]!, c.count[1]!)).toEqual(newest.map((q) => 0.5 * q));
    expect(read(c.data, c.t[0]!, 3)).toEqual([-0, -1, -2]);
    expect(a.sparkN).toBe(0);
    rings.push(a, 500, 1, 2);
    const d = rings.takeAll([a]);
    expect(read(d.data, d.t[0]!, d.count[0]!)).toEqual([500]);
  });
});
