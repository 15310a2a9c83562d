import { describe, expect, it } from "vitest";
import { BLOCK_BYTES, BlockRowBuilder, packScoreBlocks, readSlot, SLOT_BYTES } from "./score-blocks";
import type { ScoreColumns } from "./columns";

const cols = (rows: [id: number, tsMs: number, score: number][]): ScoreColumns => ({
  streamIds: rows.map((r) => r[0]),
  tsMs: rows.map((r) => r[1]),
  score: rows.map((r) => r[2]),
  confidence: rows.map(() => 1),
  expected: rows.map((r) => r[2] * 10),
  lower: rows.map(() => null),
  upper: rows.map(() => Number.NaN),
});
const slot = (data: Uint8Array, row: number, k: number) => readSlot(data, row * BLOCK_BYTES + k * SLOT_BYTES);

describe("packScoreBlocks", () => {
  it("puts each stream in its block's slot, one row per (block, ts), the later duplicate winning", () => {
    const b = packScoreBlocks(cols([[1, 1000, 5], [31, 1000, 6], [32, 1000, 7], [1, 2000, 8], [1, 1000, 9]]));
    expect(b.n).toBe(3);
    expect(Array.from(b.block)).toEqual([0, 1, 0]);
    expect(Array.from(b.tsMs)).toEqual([1000, 1000, 2000]);
    expect(Array.from(b.mask)).toEqual([(1 << 1) | (1 << 31), 1, 1 << 1]);
    expect(slot(b.data, 0, 1)).toEqual({ score: 9, confidence: 1, expected: 90, lower: null, upper: null });
    expect(slot(b.data, 0, 31).score).toBe(6);
    expect(slot(b.data, 1, 0).score).toBe(7);
    expect(slot(b.data, 2, 1).score).toBe(8);
  });

  it("grows past its first allocation", () => {
    const rows: [number, number, number][] = Array.from({ length: 500 }, (_, i) => [i * 32, 0, i]);
    const b = packScoreBlocks(cols(rows));
    expect(b.n).toBe(500);
    expect(slot(b.data, 499, 0).score).toBe(499);
  });

  it("a reused builder starts fresh rows: the previous batch's last (block, ts) is not remembered", () => {
    const builder = new BlockRowBuilder();
    const a = packScoreBlocks(cols([[1, 1000, 5], [2, 1000, 6]]), builder);
    expect(a.n).toBe(1);
    const b = packScoreBlocks(cols([[3, 1000, 7], [40, 1000, 8], [4, 1000, 9]]), builder);
    expect(b.n).toBe(2);
    expect(Array.from(b.block)).toEqual([0, 1]);
    expect(Array.from(b.mask)).toEqual([(1 << 3) | (1 << 4), 1 << 8]);
    expect(slot(b.data, 0, 1).score).toBe(0); // not carried over from the first batch
    expect(slot(b.data, 0, 4).score).toBe(9);
  });
});
