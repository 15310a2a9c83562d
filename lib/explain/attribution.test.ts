import { describe, expect, it } from "vitest";
import { probableOrigin, rankContributions, type AttributionInput } from "./attribution";

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const MIN = 60_000;

/** Minute scores from T0 − 2 h to T0 + 10 min: `base` everywhere, `high` from `fromMin` (minutes rel. to T0). */
function stream(streamId: number, base: number, high: number, fromMin: number, leadSec: number | null = null): AttributionInput {
  const points = [];
  for (let m = -120; m <= 10; m++) points.push({ t: T0 + m * MIN, score: m >= fromMin ? high : base });
  return { streamId, points, leadSec };
}

describe("rankContributions", () => {
  it("ranks by share of the excess over each stream's own level, not by raw score", () => {
    const always40 = stream(1, 45, 45, 0); // always elevated: no excess
    const jumped = stream(2, 5, 90, -3);
    const small = stream(3, 5, 40, -1);
    const ranked = rankContributions([always40, jumped, small], { onsetMs: T0 });
    expect(ranked.map((c) => c.streamId)).toEqual([2, 3, 1]);
    expect(ranked[0]!.share).toBeGreaterThan(0.8);
    expect(ranked.reduce((a, c) => a + c.share, 0)).toBeCloseTo(1, 9);
    expect(ranked[2]!.share).toBe(0);
    expect(ranked[2]!.firstExceedMs).toBeNull();
    expect(ranked[0]!.firstExceedMs).toBe(T0 - 3 * MIN);
  });

  it("breaks ties by earlier rise, then by lead–lag", () => {
    const a = stream(1, 5, 80, -2, 0);
    const b = stream(2, 5, 80, -2, 120);
    const c = stream(3, 5, 80, -2, -60);
    // same evidence: b leads the reference by the most
    expect(rankContributions([a, b, c], { onsetMs: T0 }).map((r) => r.streamId)).toEqual([2, 1, 3]);
    const early = stream(4, 5, 80, -2);
    early.points = early.points.map((p) => (p.t === T0 - 2 * MIN ? { ...p, score: 21 } : p.t === T0 - 6 * MIN ? { ...p, score: 90 } : p));
    const ranked = rankContributions([a, early], { onsetMs: T0, tieShare: 0.2 });
    expect(ranked[0]!.streamId).toBe(4);
  });

  it("is causal with windowAfterMs 0 (later scores change nothing)", () => {
    const a = stream(1, 5, 60, -4);
    const b = stream(2, 5, 70, 2); // rises only after onset
    const r1 = rankContributions([a, b], { onsetMs: T0, windowAfterMs: 0 });
    expect(r1[0]!.streamId).toBe(1);
    expect(r1.find((c) => c.streamId === 2)!.share).toBe(0);
  });

  it("ignores NaN scores and handles streams without points", () => {
    const a = stream(1, 5, 60, -4);
    a.points = a.points.map((p, i) => (i % 3 ? p : { ...p, score: Number.NaN }));
    const ranked = rankContributions([a, { streamId: 9, points: [] }], { onsetMs: T0 });
    expect(ranked[0]!.streamId).toBe(1);
    expect(Number.isNaN(ranked[1]!.peakScore)).toBe(true);
    expect(rankContributions([], { onsetMs: T0 })).toEqual([]);
  });
});

describe("probableOrigin", () => {
  it("names the top other stream that rose no later than the reference, else null", () => {
    const ref = stream(1, 5, 90, -1);
    const leader = stream(2, 5, 85, -5);
    const follower = stream(3, 5, 95, 3);
    const ranked = rankContributions([ref, leader, follower], { onsetMs: T0 });
    expect(probableOrigin(ranked, 1, T0)).toBe(2);
    const alone = rankContributions([ref, follower], { onsetMs: T0 });
    expect(probableOrigin(alone, 1, T0)).toBeNull();
  });
});
