import { describe, expect, it } from "vitest";
import { decodeBinaryCopy, encodeBinaryCopy } from "./pg-binary-copy";

/** Reads a binary COPY payload field by field (a plain reference reader, row by row). */
function readFields(buf: Buffer): (Buffer | null)[][] {
  expect(buf.subarray(0, 11).toString("latin1")).toBe("PGCOPY\n\xff\r\n\0");
  let o = 19;
  const rows: (Buffer | null)[][] = [];
  for (;;) {
    const n = buf.readInt16BE(o);
    o += 2;
    if (n === -1) break;
    const row: (Buffer | null)[] = [];
    for (let k = 0; k < n; k++) {
      const len = buf.readInt32BE(o);
      o += 4;
      row.push(len < 0 ? null : buf.subarray(o, o + len));
      o += Math.max(0, len);
    }
    rows.push(row);
  }
  expect(o).toBe(buf.length); // the trailer ends the payload exactly
  return rows;
}

describe("encodeBinaryCopy", () => {
  it("lays out mixed fixed and variable-width columns row by row", () => {
    const ts = Date.UTC(2026, 10, 26, 12, 0, 0, 123);
    const buf = encodeBinaryCopy(3, [
      { type: "int4", data: new Int32Array([1, -2, 3]) },
      { type: "bytea", data: [new Uint8Array([9]), new Uint8Array(0), new Uint8Array([1, 2, 3])] },
      { type: "timestamptz", data: new Float64Array([ts, 946_684_800_000, 0]) },
      { type: "float8null", data: [1.5, null, Number.NaN] },
      { type: "int8", data: [2 ** 40 + 7, 0, 1] },
      { type: "float8", data: [0.25, -0, 1e300] },
    ]);
    const rows = readFields(buf);
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r[0]!.readInt32BE(0))).toEqual([1, -2, 3]);
    expect(rows.map((r) => [...r[1]!])).toEqual([[9], [], [1, 2, 3]]);
    // µs since 2000-01-01
    expect(rows.map((r) => Number(r[2]!.readBigInt64BE(0)))).toEqual([(ts - 946_684_800_000) * 1000, 0, -946_684_800_000_000]);
    expect(rows[0]![3]!.readDoubleBE(0)).toBe(1.5);
    expect([rows[1]![3], rows[2]![3]]).toEqual([null, null]);
    expect(rows.map((r) => Number(r[4]!.readBigInt64BE(0)))).toEqual([2 ** 40 + 7, 0, 1]);
    expect(rows.map((r) => r[5]!.readDoubleBE(0))).toEqual([0.25, -0, 1e300]);
  });

  it("round-trips fixed-width columns through the decoder", () => {
    const n = 1000;
    const ids = Int32Array.from({ length: n }, (_, i) => i * 7 - 300);
    const t = Float64Array.from({ length: n }, (_, i) => Date.UTC(2026, 0, 1) + i * 10_000);
    const v = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 1e6);
    const out = decodeBinaryCopy(
      encodeBinaryCopy(n, [
        { type: "int4", data: ids },
        { type: "timestamptz", data: t },
        { type: "float8", data: v },
      ]),
      ["int4", "timestamptz", "float8"] as const,
    );
    expect(out.rows).toBe(n);
    expect([...out.cols[0].subarray(0, n)]).toEqual([...ids]);
    expect([...out.cols[1].subarray(0, n)]).toEqual([...t]);
    expect([...out.cols[2].subarray(0, n)]).toEqual([...v]);
  });

  it("writes NaN, ±Infinity and null as NULL in nullable float columns, typed or plain", () => {
    const typed = readFields(encodeBinaryCopy(4, [{ type: "float8null", data: new Float64Array([Infinity, -Infinity, Number.NaN, -2.5]) }]));
    const plain = readFields(encodeBinaryCopy(4, [{ type: "float8null", data: [Infinity, null, Number.NaN, -2.5] }]));
    for (const rows of [typed, plain]) {
      expect(rows.slice(0, 3).map((r) => r[0])).toEqual([null, null, null]);
      expect(rows[3]![0]!.readDoubleBE(0)).toBe(-2.5);
    }
  });

  it("writes float8bytes fields as each row's range of float64s, big-endian", () => {
    const data = new Float64Array([1.5, -2, 3e10, 4]);
    const rows = readFields(encodeBinaryCopy(3, [{ type: "int4", data: [7, 8, 9] }, { type: "float8bytes", data, from: Int32Array.of(0, 3, 2), count: Int32Array.of(2, 0, 2) }]));
    const floats = (b: Buffer) => Array.from({ length: b.length / 8 }, (_, k) => b.readDoubleBE(8 * k));
    expect(rows.map((r) => floats(r[1]!))).toEqual([[1.5, -2], [], [3e10, 4]]);
    expect(rows.map((r) => r[0]!.readInt32BE(0))).toEqual([7, 8, 9]);
    expect(() => encodeBinaryCopy(1, [{ type: "float8bytes", data, from: Int32Array.of(3), count: Int32Array.of(2) }])).toThrow(/outside/);
  });

  it("encodes zero rows as header and trailer", () => {
    expect(readFields(encodeBinaryCopy(0, [{ type: "int4", data: [] }]))).toEqual([]);
  });
});
