import { describe, expect, it } from "vitest";
import { probableOrigin, rankContributions, type AttributionInput } from "./attribution";
import { contribution, historyReference, historySpan, orderByEvidence, windowEvidence } from "./cause-ranking";

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const MIN = 60_000;

/** Minute scores from T0 − 2 h to T0 + 10 min: `base` everywhere, `high` from `fromMin` (minutes rel. to T0). */
function stream(streamId: number, base: number, high: number, fromMin: number, leadSec: number | null = null): AttributionInput {
  const points = [];
  for (let m = -120; m <= 10; m++) points.push({ t: T0 + m * MIN, score: m >= fromMin ? high : base });
  return { streamId, points, leadSec };
}

describe("rankContributions", () => {
  it("ranks by each stream's largest contribution from the lookback before onset up to toMs, plus half its contribution at the peak", () => {
    const jumped = stream(1, 5, 90, -3);
    const small = stream(2, 5, 40, -1);
    const quiet = stream(3, 0, 0, 0);
    const ranked = rankContributions([small, quiet, jumped], { onsetMs: T0 });
    expect(ranked.map((c) => c.streamId)).toEqual([1, 2, 3]);
    // the peak is jumped's 0.9 at −3 min, when small was still at its base 0.05
    expect(ranked[0]!.evidence).toBeCloseTo(0.9 + 0.45, 9);
    expect(ranked[1]!.evidence).toBeCloseTo(0.4 + 0.025, 9);
    expect(ranked[0]!.share).toBeCloseTo(1.35 / 1.775, 9);
    expect(rankContributions([small, quiet, jumped], { onsetMs: T0, coWeight: 0 })[0]!.evidence).toBeCloseTo(0.9, 9);
    expect(ranked.reduce((a, c) => a + c.share, 0)).toBeCloseTo(1, 9);
    expect(ranked[2]!.share).toBe(0);
    expect(ranked[0]!.firstExceedMs).toBe(T0 - 3 * MIN);
    expect(ranked[1]!.firstExceedMs).toBeNull();
  });

  it("is the ranking of cause-ranking.ts (windowEvidence of contribution, orderByEvidence)", () => {
    const inputs: AttributionInput[] = [0, 1, 2, 3].map((k) => ({
      streamId: 10 + k,
      points: Array.from({ length: 90 }, (_, m) => ({ t: T0 + (m - 60) * MIN, score: (37 * (m + 1) * (k + 3)) % 101, value: (m * (k + 1)) % 17, expected: 8, sigma: 1 + k })),
    }));
    const toMs = T0 + 20 * MIN;
    const series = inputs.map((s) => ({ t: s.points.map((p) => p.t), c: s.points.map((p) => contribution(p.score, p.value!, p.expected!, p.sigma!)) }));
    const ev = windowEvidence(series, T0, toMs);
    const want = orderByEvidence(ev).map((k) => inputs[k]!.streamId);
    expect(rankContributions(inputs, { onsetMs: T0, toMs }).map((c) => c.streamId)).toEqual(want);
  });

  it("with each stream's reference history, is the ranking of cause-ranking.ts with the range part", () => {
    // a day of minute values before the window; stream 11 drifts far from its range in the window
    const span = historySpan(T0, 30 * MIN);
    const inputs: AttributionInput[] = [0, 1, 2].map((k) => {
      const t = Array.from({ length: 1440 }, (_, m) => span.toMs - (1440 - m) * MIN);
      const v = t.map((_, m) => Math.sin(m / (30 + k)) * (k + 1));
      return {
        streamId: 10 + k,
        points: Array.from({ length: 60 }, (_, m) => ({ t: T0 + (m - 40) * MIN, score: 60 + 10 * ((m * (k + 2)) % 3), value: k === 1 && m > 35 ? 9 : Math.cos(m) * (k + 1), expected: 0, sigma: 1 })),
        history: historyReference(t, v, span),
      };
    });
    const toMs = T0 + 15 * MIN;
    const series = inputs.map((s) => ({
      t: s.points.map((p) => p.t),
      c: s.points.map((p) => contribution(p.score, p.value!, p.expected!, p.sigma!)),
      value: s.points.map((p) => p.value!),
      history: s.history!,
    }));
    const want = orderByEvidence(windowEvidence(series, T0, toMs)).map((k) => inputs[k]!.streamId);
    const ranked = rankContributions(inputs, { onsetMs: T0, toMs });
    expect(ranked.map((c) => c.streamId)).toEqual(want);
    expect(ranked[0]!.streamId).toBe(11);
    // without the references the range part is absent: the page's order is score and forecast alone
    const plain = rankContributions(
      inputs.map(({ history: _h, ...s }) => s),
      { onsetMs: T0, toMs, coWeight: 0 },
    );
    const of11 = (r: typeof ranked) => r.find((c) => c.streamId === 11)!.evidence;
    const alone = rankContributions(inputs, { onsetMs: T0, toMs, coWeight: 0 });
    // beyond all 288 five-minute means of its day: p = 2/289, half weight times −log10 p / 3
    expect(of11(alone) - of11(plain)).toBeCloseTo((0.5 * -Math.log10(2 / 289)) / 3, 9);
  });

  it("orders saturated streams by the forecast deviation, exact ties by earlier rise, then lead–lag", () => {
    const a = stream(1, 5, 100, -2, 0);
    const b = stream(2, 5, 100, -2, 120);
    const c = stream(3, 5, 100, -2, -60);
    expect(rankContributions([a, b, c], { onsetMs: T0 }).map((r) => r.streamId)).toEqual([2, 1, 3]);
    const early = stream(4, 5, 100, -6);
    expect(rankContributions([a, early], { onsetMs: T0 })[0]!.streamId).toBe(4);
    const far = stream(5, 5, 100, -1);
    far.points = far.points.map((p) => ({ ...p, value: p.t >= T0 - MIN ? 50 : 10, expected: 10, sigma: 2 }));
    expect(rankContributions([early, far], { onsetMs: T0 })[0]!.streamId).toBe(5);
  });

  it("is causal: nothing after toMs (default: the onset) counts", () => {
    const a = stream(1, 5, 60, -4);
    const b = stream(2, 5, 70, 2); // rises only after onset
    const r1 = rankContributions([a, b], { onsetMs: T0 });
    expect(r1[0]!.streamId).toBe(1);
    // b's base 0.05, plus half of it at the peak (a's rise at −4 min)
    expect(r1[1]!.evidence).toBeCloseTo(0.075, 9);
    expect(rankContributions([a, b], { onsetMs: T0, toMs: T0 + 5 * MIN })[0]!.streamId).toBe(2);
  });

  it("counts NaN scores as 0 and keeps streams without points (last)", () => {
    const a = stream(1, 5, 60, -4);
    a.points = a.points.map((p, i) => (i % 3 ? p : { ...p, score: Number.NaN }));
    const ranked = rankContributions([{ streamId: 9, points: [] }, a], { onsetMs: T0 });
    expect(ranked.map((c) => c.streamId)).toEqual([1, 9]);
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
