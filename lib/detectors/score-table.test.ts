import { describe, expect, it } from "vitest";
import { scoreTable } from "./score-table";

const MIN = 60_000;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * n streams of noise, 1,500 rows; streams 0 and 1 carry the same noise (two views of one
 * quantity) and from row 1,400 on both move up by `lift` for 6 rows.
 */
function table(n: number, lift: number) {
  const rows = 1500;
  const timestampsMs = Float64Array.from({ length: rows }, (_, t) => t * MIN);
  const columns = Array.from({ length: n }, (_, k) => {
    const r = rng(17 + (k === 1 ? 0 : k));
    return { name: `m${k}`, values: Float64Array.from({ length: rows }, (_, t) => 10 + (r() + r() + r() - 1.5) + (k < 2 && t >= 1400 && t < 1406 ? lift : 0)) };
  });
  return { timestampsMs, columns };
}

describe("scoreTable: row score", () => {
  it("is the larger of the best stream less log10(n) decades and κ × the second best less log10(n(n−1)/2)", () => {
    const t = table(6, 1.3);
    const perRow: number[][] = [];
    const out = scoreTable(t, undefined, (_r, res) => {
      perRow.push(Array.from(res.score));
    });
    for (let r = 0; r < perRow.length; r++) {
      const s = perRow[r]!.slice().sort((a, b) => b - a);
      const single = s[0]! - 10 * Math.log10(6);
      const pair = 1.4 * s[1]! - 10 * Math.log10(15);
      // (the multivariate score can only raise the row)
      expect(out.score[r]).toBeGreaterThanOrEqual(Math.min(100, Math.max(0, single, pair)) - 1e-9);
    }
  });

  it("two streams moving together raise the row above what either alone gives; off with κ = 0 and for two streams", () => {
    // each stream alone scores ~62: less log10(6) decades the row stays under 60, the pair does not
    const t = table(6, 1.3);
    const on = scoreTable(t);
    const off = scoreTable(t, { tablePairExponent: 0 });
    const peak = (s: Float64Array) => Math.max(...s.subarray(1400, 1406));
    expect(peak(off.score)).toBeLessThan(60);
    expect(peak(on.score)).toBeGreaterThanOrEqual(60);
    expect(peak(on.score)).toBeLessThanOrEqual(100);
    const two = table(2, 1.3);
    expect(Array.from(scoreTable(two).score)).toEqual(Array.from(scoreTable(two, { tablePairExponent: 0 }).score));
  });
});
