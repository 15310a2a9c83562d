import { describe, expect, it } from "vitest";
import { BLOCK_BYTES, packScoreBlocks, readSlot, ScoreMinuteFold, SLOT_BYTES } from "./score-blocks";
import type { ScoreColumns } from "./scores-repo";

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
});

describe("ScoreMinuteFold", () => {
  it("writes a block's minute when a later minute arrives, with the peak, the means and NaN-safe max", () => {
    const f = new ScoreMinuteFold();
    const m0 = 60_000 * 1000;
    expect(f.add(cols([[3, m0, 10], [3, m0 + 15_000, Number.NaN], [3, m0 + 30_000, 40], [4, m0, 2]]), 0).n).toBe(0);
    const out = f.add(cols([[3, m0 + 60_000, 1]]), 1000);
    expect(out.n).toBe(1);
    expect(out.tsMs[0]).toBe(m0);
    expect(out.mask[0]).toBe((1 << 3) | (1 << 4));
    expect(slot(out.data, 0, 3)).toMatchObject({ score: 40, confidence: 1, expected: 250 }); // the NaN expected is left out
    expect(slot(out.data, 0, 4).score).toBe(2);
  });

  it("writes idle minutes after two minutes of wall time, and everything on flushAll", () => {
    const f = new ScoreMinuteFold();
    f.add(cols([[1, 0, 5]]), 0);
    f.add(cols([[40, 0, 6]]), 60_000);
    const idle = f.add(cols([[80, 0, 7]]), 125_000);
    expect(Array.from(idle.block)).toEqual([0]); // block 0 idle for 125 s; block 1 only 65 s
    const rest = f.flushAll();
    expect(Array.from(rest.block).sort()).toEqual([1, 2]);
    expect(f.flushAll().n).toBe(0);
  });
});
