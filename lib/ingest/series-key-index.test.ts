import { describe, expect, it } from "vitest";
import { hashBytes, SeriesKeyIndex } from "./series-key-index";

const view = (b: Buffer) => new DataView(b.buffer, b.byteOffset, b.byteLength);

describe("SeriesKeyIndex", () => {
  it("maps key bytes anywhere in a request to ids, across growth", () => {
    const index = new SeriesKeyIndex();
    const keys = Array.from({ length: 5_000 }, (_, i) => `job="a",instance="host-${i}:9100"${"x".repeat(i % 7)}`);
    const req = Buffer.from(`<${keys.join("|")}>`, "latin1");
    let at = 1;
    const ranges = keys.map((k) => [at, (at += k.length + 1) - 1] as const);
    ranges.forEach(([from, to], i) => index.set(view(req), from, to, hashBytes(req, from, to), i * 3));
    expect(index.size).toBe(keys.length);
    // the same keys in another buffer, in another order, at other offsets
    const other = Buffer.from(`..${[...keys].reverse().join(",")}`, "latin1");
    let o = 2;
    for (let i = keys.length - 1; i >= 0; i--) {
      const to = o + keys[i]!.length;
      expect(index.get(view(other), o, to, hashBytes(other, o, to))).toBe(i * 3);
      o = to + 1;
    }
    expect(index.get(view(req), 0, 5, hashBytes(req, 0, 5))).toBe(-1);
    // in stored order (the entry after the last hit is tried first), with one key skipped
    ranges.forEach(([from, to], i) => i !== 10 && expect(index.get(view(req), from, to, hashBytes(req, from, to))).toBe(i * 3));
  });

  it("never confuses keys whose hashes collide, and forgets everything on clear", () => {
    const index = new SeriesKeyIndex();
    const a = Buffer.from("up{a}", "latin1");
    const b = Buffer.from("up{b}", "latin1");
    index.set(view(a), 0, a.length, 42, 1); // forced collision: both under hash 42
    index.set(view(b), 0, b.length, 42, 2);
    expect(index.get(view(a), 0, a.length, 42)).toBe(1);
    expect(index.get(view(b), 0, b.length, 42)).toBe(2);
    expect(index.get(view(a), 0, a.length - 1, 42)).toBe(-1);
    index.set(view(a), 0, a.length, 42, 7); // the same series twice: the later id
    expect(index.get(view(a), 0, a.length, 42)).toBe(7);
    expect(index.size).toBe(2);
    index.clear();
    expect(index.size).toBe(0);
    expect(index.get(view(a), 0, a.length, 42)).toBe(-1);
  });
});
