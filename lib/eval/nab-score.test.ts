import { describe, expect, it } from "vitest";
import { nabScore, probationaryRows, scaledSigmoid, type NabFile } from "./nab-score";

/**
 * Expected figures: the same corpus written as NAB files and scored once with the reference
 * re-implementation of numenta/NAB (`../shared/tools/nab-score.mjs --threshold 0.6`), copied here
 * so the test needs neither the tool nor the data.
 */
const T0 = Date.UTC(2024, 0, 1);
const STEP = 300_000;
const PROFILES = {
  standard: { tpWeight: 1, fnWeight: 1, fpWeight: 0.11 },
  reward_low_FP_rate: { tpWeight: 1, fnWeight: 1, fpWeight: 0.22 },
  reward_low_FN_rate: { tpWeight: 1, fnWeight: 2, fpWeight: 0.11 },
};

function file(name: string, rows: number, score: (i: number) => number, windows: [number, number][], tsOf = (i: number) => T0 + i * STEP): NabFile {
  const ts = Array.from({ length: rows }, (_, i) => tsOf(i));
  return { name, timestampsMs: ts, scores: Array.from({ length: rows }, (_, i) => score(i)), windows: windows.map(([a, b]) => [ts[a]!, ts[b]!] as const) };
}

// one.csv: 40 rows (6 probationary: the 0.95 at row 2 is ignored), window rows 20–27, a false
// alarm before it (row 8), a hit at row 23, two false alarms just after it (rows 30–31).
const one = file("a/one.csv", 40, (i) => (i === 2 ? 0.95 : i === 8 ? 0.7 : i === 23 ? 0.9 : i === 30 || i === 31 ? 0.65 : 0.1), [[20, 27]]);
// three.csv: 50 rows, windows 10–14 (hit at 12 with exactly 0.6) and 30–39 (missed), alarms after.
const three = file("a/three.csv", 50, (i) => (i === 12 ? 0.6 : i === 41 ? 0.75 : i === 42 || i === 43 ? 0.62 : 0.2), [[10, 14], [30, 39]]);
// two.csv: 30 rows, no window, rows 14 and 15 share a timestamp, one alarm (row 10).
const two = file("a/two.csv", 30, (i) => (i === 10 ? 0.8 : i === 20 ? 0.3 : 0.05), [], (i) => T0 + (i <= 14 ? i : i - 1) * STEP);

describe("NAB score", () => {
  it("uses NAB's scaled sigmoid and probationary period", () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661429815, 10);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(3.01)).toBe(-1);
    expect(probationaryRows(40)).toBe(6);
    expect(probationaryRows(10_000)).toBe(750);
  });

  it("matches the reference scorer on a hand-made corpus, swept and at a declared threshold", () => {
    const r = nabScore([one, three, two], PROFILES, 0.6);
    expect(r.windowsTotal).toBe(3);
    expect(r.scorableRows).toBe(103);
    const s = r.profiles.standard!;
    expect(s.nullRaw).toBeCloseTo(-3, 12);
    expect(s.swept.threshold).toBe(0.6);
    expect(s.swept.raw).toBeCloseTo(0.2216747584671106, 12);
    expect(s.swept.score).toBeCloseTo(53.694579307785176, 9);
    expect(s.fixed!.counts).toEqual({ tp: 2, fp: 7, fn: 21, tn: 73 });
    const fp = r.profiles.reward_low_FP_rate!;
    expect(fp.fixed!.score).toBeCloseTo(43.29451695020538, 9);
    const fn = r.profiles.reward_low_FN_rate!;
    expect(fn.nullRaw).toBeCloseTo(-5.344561937301597, 12);
    expect(fn.swept.threshold).toBe(0.2);
    expect(fn.swept.score).toBeCloseTo(59.57845902627677, 9);
    expect(fn.fixed!.score).toBeCloseTo(54.72110735204517, 9);
    // window level at 0.6: 2 of 3 windows, 7 false alarm rows in 4 runs (8; 30–31; 41–43; two's 10)
    const w = s.fixed!.windowLevel;
    expect([w.windows, w.detected, w.fpPoints, w.fpEvents]).toEqual([3, 2, 7, 4]);
    expect(w.precision).toBeCloseTo(1 / 3, 12);
    expect(w.f1).toBeCloseTo(0.4444444444, 9);
    // delays: one 15 min (row 23 − row 20), three 10 min (row 12 − row 10)
    expect(w.detectionDelayMinMean).toBeCloseTo(12.5, 9);
    // scored days: (39−6)+(49−7)+(28−4) steps of 5 min = 99 steps = 0.34375 days
    expect(w.falseAlarmsPerDay).toBeCloseTo(4 / 0.34375, 9);
  });

  it("a detector that never alarms scores 0 (below 0 for low-FN, whose null alarms everywhere), one that finds every window at its first row 100", () => {
    const silent = nabScore([one, three, two].map((f) => ({ ...f, scores: Array(f.timestampsMs.length).fill(0) })), PROFILES, 0.5);
    expect(silent.profiles.standard!.fixed!.score).toBeCloseTo(0, 9);
    expect(silent.profiles.reward_low_FP_rate!.fixed!.score).toBeCloseTo(0, 9);
    expect(silent.profiles.reward_low_FN_rate!.fixed!.score).toBeLessThan(0);
    const starts = new Set([`a/one.csv:20`, `a/three.csv:10`, `a/three.csv:30`]);
    const perfect = [one, three, two].map((f) => ({ ...f, scores: Array.from({ length: f.timestampsMs.length }, (_, i) => (starts.has(`${f.name}:${i}`) ? 1 : 0)) }));
    const p = nabScore(perfect, PROFILES, 0.5);
    for (const x of Object.values(p.profiles)) expect(x.fixed!.score).toBeCloseTo(100, 9);
  });

  it("refuses a window bound that is not a row timestamp", () => {
    expect(() => nabScore([{ ...one, windows: [[T0 + 1, T0 + 20 * STEP]] }], PROFILES)).toThrow(/not a row timestamp/);
  });
});
