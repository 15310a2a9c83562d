import { describe, expect, it } from "vitest";
import { decodeF64, decodeF64Column, decodeI32, encodeF64, encodeF64Column, encodeI32, getNumbers, getOneOf, readParams } from "./codec";
import { SoA } from "./soa";

describe("typed-array codec", () => {
  it("writes standard padded base64 of the little-endian bytes, every tail length, and reads it back", () => {
    for (let n = 0; n <= 7; n++) {
      const a = Float64Array.from({ length: n }, (_, k) => (k === 2 ? Number.NaN : k === 3 ? -Infinity : Math.PI * (k - 1) * 1e10));
      const s = encodeF64(a);
      expect(s).toBe(Buffer.from(a.buffer).toString("base64"));
      expect(Array.from(new Uint8Array(decodeF64(s).buffer))).toEqual(Array.from(new Uint8Array(a.buffer)));
      // int32: 4 bytes a value, so all three tail lengths of base64 occur
      const b = Int32Array.from({ length: n }, (_, k) => (k * 0x01020304) | 0);
      expect(encodeI32(b)).toBe(Buffer.from(b.buffer).toString("base64"));
      expect(Array.from(decodeI32(encodeI32(b)))).toEqual(Array.from(b));
    }
  });

  it("encodes a prefix (`length`) of a larger array", () => {
    const a = Float64Array.from([1, 2, 3, 4]);
    expect(encodeF64(a, 2)).toBe(Buffer.from(a.buffer, 0, 16).toString("base64"));
  });

  it("splits a column longer than the chunk into several strings and reads either form back", () => {
    const a = Float64Array.from({ length: 10 }, (_, k) => (k === 4 ? Number.NaN : k * 1.5 - 3));
    expect(encodeF64Column(a, 10, 16)).toBe(encodeF64(a));
    const parts = encodeF64Column(a, 10, 4);
    expect(parts).toEqual([encodeF64(a.subarray(0, 4)), encodeF64(a.subarray(4, 8)), encodeF64(a.subarray(8, 10))]);
    expect(encodeF64Column(a, 7, 4)).toEqual([encodeF64(a.subarray(0, 4)), encodeF64(a.subarray(4, 7))]);
    for (const v of [parts, encodeF64(a)]) expect(Array.from(new Uint8Array(decodeF64Column(v)!.buffer))).toEqual(Array.from(new Uint8Array(a.buffer)));
    expect(decodeF64Column(["AAAAAAAAAAA=", 3])).toBeNull();
    expect(decodeF64Column(undefined)).toBeNull();
  });

  it("a bank's columns restore from chunked strings (what a snapshot of many streams holds)", () => {
    const keys = { level: 1, ring: 3 } as const;
    const src = new SoA(keys);
    src.ensure(5);
    for (let i = 0; i < 5; i++) {
      src.cols.level[i] = i + 0.25;
      src.cols.ring.set([i, -i, i * i], i * 3);
    }
    const plain = src.serialize(5);
    const chunked = { level: encodeF64Column(src.cols.level, 5, 2), ring: encodeF64Column(src.cols.ring, 15, 4) };
    expect(Array.isArray(chunked.ring)).toBe(true);
    for (const data of [plain, chunked]) {
      const dst = new SoA(keys);
      dst.load(5, data);
      expect(Array.from(dst.cols.level.subarray(0, 5))).toEqual(Array.from(src.cols.level.subarray(0, 5)));
      expect(Array.from(dst.cols.ring.subarray(0, 15))).toEqual(Array.from(src.cols.ring.subarray(0, 15)));
    }
    expect(() => new SoA(keys).load(5, { level: plain.level, ring: [plain.ring, plain.ring] })).toThrow(/wrong length/);
  });

  it("reads saved parameters against the defaults: typed, unknown keys dropped, non-finite (JSON null) numbers left to the default", () => {
    const defaults = { alpha: 0.5, name: "x", on: true, lags: [1, 2] };
    expect(readParams({ params: { alpha: 0.1, old: 3, on: false, lags: [4] } }, defaults)).toEqual({ alpha: 0.1, on: false, lags: [4] });
    expect(readParams({ params: { alpha: null } }, defaults)).toEqual({});
    expect(() => readParams({ params: { alpha: "0.1" } }, defaults)).toThrow(/params.alpha/);
    expect(() => readParams({ params: { lags: 3 } }, defaults)).toThrow(/params.lags/);
    expect(() => readParams({}, defaults)).toThrow(/params/);
  });

  it("reads number arrays (JSON null as NaN) and one of a set of strings", () => {
    expect(getNumbers({ z: [1, null, -Infinity] }, "z")).toEqual([1, Number.NaN, -Infinity]);
    expect(() => getNumbers({ z: [1, "2"] }, "z")).toThrow();
    expect(getOneOf({ s: "high" }, "s", ["low", "high"] as const)).toBe("high");
    expect(() => getOneOf({ s: "huge" }, "s", ["low", "high"] as const)).toThrow(/one of low, high/);
  });
});
