import { describe, expect, it } from "vitest";
import { causalTimeline, leadLag } from "./lead-lag";

function walk(n: number, seed: number): number[] {
  let s = seed;
  let x = 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    x += s / 2147483648 - 0.5;
    out.push(x);
  }
  return out;
}

describe("leadLag", () => {
  it("finds that b follows a by 3 steps", () => {
    const a = walk(300, 7);
    const b = a.map((_, i) => 2 * (a[i - 3] ?? 0) + 5);
    const r = leadLag(a, b, 10);
    expect(r.lag).toBe(3);
    expect(r.correlation).toBeGreaterThan(0.95);
  });
  it("reports a negative lag when b leads, and ignores missing points", () => {
    const b = walk(300, 11);
    const a = b.map((_, i) => b[i - 4] ?? 0);
    a[50] = Number.NaN;
    const r = leadLag(a, b, 8);
    expect(r.lag).toBe(-4);
    expect(r.correlation).toBeGreaterThan(0.9);
  });
  it("gives a weak correlation for independent series", () => {
    expect(Math.abs(leadLag(walk(400, 1), walk(400, 2), 5).correlation!)).toBeLessThan(0.25);
  });
  it("says a correlation cannot be computed (null, not 0) from too few moves or a flat series", () => {
    const short = leadLag([1, 2, 3, Number.NaN, 5], [2, 4, 1, 3, 3], 2);
    expect(short.correlation).toBeNull();
    expect(short.lag).toBe(0);
    const flat = leadLag(walk(100, 3), new Array(100).fill(5), 4);
    expect(flat.correlation).toBeNull();
    const gappy = walk(100, 4).map((v, i) => (i % 3 === 0 ? v : Number.NaN));
    expect(leadLag(gappy, walk(100, 5), 3).correlation).toBeNull();
  });
});

describe("causalTimeline", () => {
  it("orders by onset and picks the earliest coupled stream as origin", () => {
    const t0 = 1_000_000;
    const { timeline, originStreamId } = causalTimeline(t0, [
      { streamId: 1, onsetMs: t0, peakScore: 90, correlation: 1 },
      { streamId: 2, onsetMs: t0 - 120_000, peakScore: 70, correlation: 0.8 },
      { streamId: 3, onsetMs: t0 - 600_000, peakScore: 65, correlation: 0.05 },
    ]);
    expect(timeline.map((e) => e.streamId)).toEqual([3, 2, 1]);
    expect(timeline[1]!.offsetSec).toBe(-120);
    expect(originStreamId).toBe(2);
  });
});
