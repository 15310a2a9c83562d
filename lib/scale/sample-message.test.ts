import { describe, expect, it } from "vitest";
import { decodeSamples, encodeSamples } from "./sample-message";

describe("sample log messages", () => {
  it("round-trips columns", () => {
    const s = { streamIds: Int32Array.from([1, 7, 1]), tsMs: Float64Array.from([1.7e12, 1.7e12, 1.70000001e12]), values: Float64Array.from([0.5, -3, Number.NaN]) };
    const d = decodeSamples(encodeSamples(s))!;
    expect(Array.from(d.streamIds)).toEqual([1, 7, 1]);
    expect(Array.from(d.tsMs)).toEqual(Array.from(s.tsMs));
    expect(Array.from(d.values)).toEqual([0.5, -3, Number.NaN]);
  });

  it("decodes from an unaligned view", () => {
    const enc = encodeSamples({ streamIds: Int32Array.from([3]), tsMs: Float64Array.from([5]), values: Float64Array.from([6]) });
    const shifted = new Uint8Array(enc.length + 1);
    shifted.set(enc, 1);
    expect(Array.from(decodeSamples(shifted.subarray(1))!.values)).toEqual([6]);
  });

  it("decodes from a view into a larger buffer (as Node Buffers from a socket are)", () => {
    const enc = encodeSamples({ streamIds: Int32Array.from([3, 4]), tsMs: Float64Array.from([5, 6]), values: Float64Array.from([7, 8]) });
    const pool = Buffer.alloc(enc.length + 100, 0xff);
    pool.set(enc, 40);
    const d = decodeSamples(pool.subarray(40, 40 + enc.length))!;
    expect(Array.from(d.streamIds)).toEqual([3, 4]);
    expect(Array.from(d.tsMs)).toEqual([5, 6]);
  });

  it("rejects what is not a message (fuzzed)", () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const good = encodeSamples({ streamIds: Int32Array.from([1, 2]), tsMs: Float64Array.from([1, 2]), values: Float64Array.from([1, 2]) });
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rnd() * 64);
      const b = new Uint8Array(len).map(() => Math.floor(rnd() * 256));
      const d = decodeSamples(b);
      if (d) expect(8 + d.streamIds.length * 20).toBe(len);
      const cut = good.subarray(0, Math.floor(rnd() * good.length));
      expect(decodeSamples(cut)).toBeNull();
    }
  });
});
