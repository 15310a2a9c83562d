import { describe, expect, it } from "vitest";
import { ZDetectRequest } from "./detect";

/** Deterministic pseudo-random JSON values (hostile shapes for the request parser). */
function junk(seed: number, depth = 0): unknown {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const pick = Math.floor(r() * 10);
  if (depth > 3) return pick % 2 ? 1e308 : "x";
  switch (pick) {
    case 0: return null;
    case 1: return -0;
    case 2: return "\u0000" + "é".repeat(Math.floor(r() * 10));
    case 3: return [junk(seed + 1, depth + 1), junk(seed + 2, depth + 1)];
    case 4: return { streams: [{ key: junk(seed + 3, depth + 1), value: junk(seed + 4, depth + 1) }] };
    case 5: return { streams: [{ id: Math.floor(r() * 1e12) - 5e11, value: r() * 1e6 }], timestamp: junk(seed + 5, depth + 1) };
    case 6: return { __proto__: { streams: [] }, constructor: 1 };
    case 7: return { streams: Array.from({ length: 3 }, (_, k) => junk(seed + 10 + k, depth + 1)) };
    case 8: return true;
    default: return { streams: [{ key: "a", source: junk(seed + 6, depth + 1), value: 1 }] };
  }
}

describe("ZDetectRequest", () => {
  it("accepts ids or keys with values, and an ISO or epoch timestamp", () => {
    expect(ZDetectRequest.safeParse({ streams: [{ id: 3, value: 1.5 }, { key: 'a{b="c"}', source: "s", value: null }] }).success).toBe(true);
    expect(ZDetectRequest.safeParse({ timestamp: "2026-12-06T05:00:00Z", streams: [{ id: 1, value: 0 }] }).success).toBe(true);
    expect(ZDetectRequest.safeParse({ timestamp: 1796533200000, streams: [{ id: 1, value: 0 }] }).success).toBe(true);
  });

  it("refuses what it cannot use, with the field named", () => {
    const bad = [
      {},
      { streams: [] },
      { streams: [{ value: 1 }] },
      { streams: [{ id: 1, key: "a", value: 1 }] },
      { streams: [{ id: 1.5, value: 1 }] },
      { streams: [{ id: 1, value: "1" }] },
      { streams: [{ id: 1 }] },
      { streams: [{ id: 1, value: 1, extra: true }] },
      { timestamp: "yesterday", streams: [{ id: 1, value: 1 }] },
    ];
    for (const b of bad) expect(ZDetectRequest.safeParse(b).success).toBe(false);
    const e = ZDetectRequest.safeParse({ streams: [{ id: 1, value: "x" }] });
    expect(e.success ? "" : JSON.stringify(e.error.issues)).toContain('"streams",0,"value"');
  });

  it("never throws on hostile input (fuzz)", () => {
    for (let seed = 1; seed < 3000; seed++) {
      const v = junk(seed * 7919);
      expect(() => ZDetectRequest.safeParse(v)).not.toThrow();
    }
  });
});
