import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { compressState } from "./engine-snapshot";

describe("compressState", () => {
  it("is gzip of the state, whatever its size", async () => {
    for (const n of [0, 1000, 5_000_000]) {
      const state = Buffer.from(Float64Array.from({ length: n }, (_, k) => Math.sin(k) * (k % 7)).buffer);
      const stored = await compressState(state);
      expect(zlib.gunzipSync(stored).equals(state)).toBe(true);
    }
  });
});
