import { describe, expect, it } from "vitest";
import { isPackedState, packState, packStateSliced, unpackState } from "./state-container";

const state = () => ({
  kind: "x",
  last: -Infinity,
  ids: ["a", "b"],
  cols: { a: Float64Array.from({ length: 1000 }, (_, k) => (k === 7 ? Number.NaN : k / 3)), b: new Float64Array(0), c: Float64Array.of(-0, Infinity) },
  nested: [{ d: new Float64Array(5).fill(2) }],
});

describe("state container", () => {
  it("reads back every column bit for bit and the rest as V8 wrote it", () => {
    const s = state();
    const bytes = packState(s);
    expect(isPackedState(bytes)).toBe(true);
    const back = unpackState(bytes);
    expect(back).toEqual(s);
    const a = (back as ReturnType<typeof state>).cols.a;
    expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(s.cols.a.buffer))).toBe(true);
  });

  it("copies in slices with the event loop free between them, to the same bytes", async () => {
    // other work on the loop: one turn per loop iteration
    let turns = 0;
    let on = true;
    const other = () => {
      turns++;
      if (on) setImmediate(other);
    };
    setImmediate(other);
    const sliced = await packStateSliced(state(), 64);
    on = false;
    expect(Buffer.from(sliced).equals(Buffer.from(packState(state())))).toBe(true);
    // 8,056 bytes of columns in slices of 64: the other work ran in between
    expect(turns).toBeGreaterThan(50);
  });

  it("refuses a truncated container", () => {
    const bytes = packState(state());
    expect(() => unpackState(bytes.subarray(0, bytes.length - 8))).toThrow(/truncated/);
    expect(isPackedState(new Uint8Array([0xff, 0x0f]))).toBe(false);
  });
});
