import { describe, expect, it } from "vitest";
import { decodeF64, decodeI32, encodeF64, encodeI32 } from "./codec";

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
});
