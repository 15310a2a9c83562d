import { describe, expect, it } from "vitest";
import { byteCount, ZByteCount } from "./rows";

describe("byteCount", () => {
  it("reads a BIGINT size as an exact number, from pg's number, the int8 text or a bigint", () => {
    for (const v of [0, 2 ** 31 + 5, "6442450951", 6442450951n, Number.MAX_SAFE_INTEGER, String(Number.MAX_SAFE_INTEGER)]) {
      expect(byteCount(v, "t.size_bytes")).toBe(Number(v));
    }
    expect(ZByteCount("t.size_bytes").parse("4294967296")).toBe(2 ** 32);
  });

  it("refuses a size past Number.MAX_SAFE_INTEGER by name instead of rounding it", () => {
    // 2^53 + 1: its text and bigint are exact, pg's number already rounded to 2^53
    for (const v of ["9007199254740993", 9007199254740993n, 2 ** 53]) {
      expect(() => byteCount(v, "t.size_bytes")).toThrow(/^t\.size_bytes: 900719925474099[23] bytes is past Number\.MAX_SAFE_INTEGER \(9007199254740991\)/);
    }
  });

  it("refuses what is not a size", () => {
    for (const v of [-1, "-1", 1.5, "12abc", null, undefined, Number.NaN]) expect(() => byteCount(v, "t.size_bytes")).toThrow(/is not a size in bytes/);
  });
});
