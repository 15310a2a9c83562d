import { describe, expect, it } from "vitest";
import { decodeBinaryCopy, encodeBinaryCopy } from "./pg-binary-copy";
import { packSampleRows, slotsPresent, valsLiteral } from "./sample-blocks";
import type { SortedSamples } from "./columns";

const samples = (rows: [number, number, number][]): SortedSamples => ({
  streamIds: Int32Array.from(rows.map((r) => r[0])),
  tsMs: Float64Array.from(rows.map((r) => r[1])),
  values: Float64Array.from(rows.map((r) => r[2])),
});

const rowsOf = (p: ReturnType<typeof packSampleRows>) =>
  Array.from({ length: p.rows }, (_, r) => ({
    block: p.block[r],
    ts: p.rowTs[r],
    ids: Array.from(p.streamIds.subarray(p.rowStart[r], p.rowStart[r + 1])),
    values: Array.from(p.values.subarray(p.rowStart[r], p.rowStart[r + 1])),
  }));

describe("packSampleRows", () => {
  it("puts a scrape's streams of one block into one row, and starts a row per block and timestamp", () => {
    const p = packSampleRows(samples([[0, 10, 1], [1, 10, 2], [31, 10, 3], [32, 10, 4], [64, 10, 5]]));
    expect(rowsOf(p)).toEqual([
      { block: 0, ts: 10, ids: [0, 1, 31], values: [1, 2, 3] },
      { block: 1, ts: 10, ids: [32], values: [4] },
      { block: 2, ts: 10, ids: [64], values: [5] },
    ]);
    expect(Array.from(p.tsMs)).toEqual([10, 10, 10, 10, 10]);
  });

  it("groups several timestamps per stream into one row per (block, ts), in first-seen order", () => {
    // sorted by stream id: stream 3's samples, then stream 5's
    const p = packSampleRows(samples([[3, 10, 1], [3, 20, 2], [3, 30, 3], [5, 10, 4], [5, 30, 6], [5, 40, 7]]));
    expect(rowsOf(p)).toEqual([
      { block: 0, ts: 10, ids: [3, 5], values: [1, 4] },
      { block: 0, ts: 20, ids: [3], values: [2] },
      { block: 0, ts: 30, ids: [3, 5], values: [3, 6] },
      { block: 0, ts: 40, ids: [5], values: [7] },
    ]);
  });

  it("keeps the first of a (stream, ts) given twice and leaves out slots already stored", () => {
    const p = packSampleRows(samples([[1, 10, 1], [1, 10, 99], [2, 10, 2], [40, 10, 3]]), (block, ts) => (block === 0 && ts === 10 ? 1 << 2 : 0));
    expect(rowsOf(p)).toEqual([
      { block: 0, ts: 10, ids: [1], values: [1] },
      { block: 1, ts: 10, ids: [40], values: [3] },
    ]);
    // a row whose every slot is stored disappears
    expect(packSampleRows(samples([[2, 10, 2]]), () => 1 << 2).rows).toBe(0);
  });

  it("handles slot 31 (the int4 sign bit) and an empty batch", () => {
    const p = packSampleRows(samples([[31, 5, 1], [31, 5, 2]]));
    expect(rowsOf(p)).toEqual([{ block: 0, ts: 5, ids: [31], values: [1] }]);
    expect(packSampleRows(samples([])).rows).toBe(0);
  });
});

describe("sample block values", () => {
  it("writes a row's values at their slots with NULL between, for COPY and for SQL literals", () => {
    const p = packSampleRows(samples([[33, 10, 1.5], [35, 10, -2], [64, 10, Number.NaN]]));
    expect(valsLiteral(p, 0)).toBe("{NULL,1.5,NULL,-2}");
    expect(valsLiteral(p, 1)).toBe("{NaN}");
    const pos = Int32Array.from(p.streamIds, (id) => id % 32);
    const buf = encodeBinaryCopy(p.rows, [
      { type: "int4", data: p.block },
      { type: "float8array", data: p.values, pos, rowStart: p.rowStart },
    ]);
    // row 1: 2 fields; int4; array of 4 elements with NULLs (flag 1), element type float8 (701)
    const o = 19 + 2 + 8;
    expect(buf.readInt32BE(o)).toBe(20 + 2 * 12 + 2 * 4);
    expect([buf.readInt32BE(o + 4), buf.readInt32BE(o + 8), buf.readInt32BE(o + 12), buf.readInt32BE(o + 16), buf.readInt32BE(o + 20)]).toEqual([1, 1, 701, 4, 1]);
    expect(buf.readInt32BE(o + 24)).toBe(-1);
    expect(buf.readInt32BE(o + 28)).toBe(8);
    expect(buf.readDoubleBE(o + 32)).toBe(1.5);
    // the row after it decodes as an int4 (the array's length was right)
    const after = o + 4 + 20 + 2 * 12 + 2 * 4;
    expect(buf.readInt16BE(after)).toBe(2);
    expect(buf.readInt32BE(after + 6)).toBe(2);
    expect(() => encodeBinaryCopy(1, [{ type: "float8array", data: Float64Array.of(1, 2), pos: [3, 1], rowStart: Int32Array.of(0, 2) }])).toThrow(/ascending/);
    expect(decodeBinaryCopy(encodeBinaryCopy(p.rows, [{ type: "int4", data: p.block }]), ["int4"] as const).cols[0]).toEqual(Int32Array.of(1, 2));
  });

  it("reads which slots a stored row holds", () => {
    expect(slotsPresent([null, 1, null, 2])).toBe(0b1010);
    expect(slotsPresent([])).toBe(0);
  });
});
