import { describe, expect, it } from "vitest";
import { DetectionEngine } from "./engine";
import { DAY_MS } from "./holt-winters";
import { Rng } from "./rng";
import { SeasonBreakBank } from "./season-break";
import { gauss } from "./test-noise";

const T0 = Date.UTC(2026, 0, 5);
const STEP = 5 * 60_000;
const PER_DAY = DAY_MS / STEP;

/** A square daily wave: 20 at night, 80 from 09:00 to 18:00, noise σ = 2. */
function dailyWave(rng: Rng, t: number, peak = true): number {
  const h = ((t - T0) % DAY_MS) / 3_600_000;
  return (peak && h >= 9 && h < 18 ? 80 : 20) + 2 * gauss(rng);
}

describe("SeasonBreakBank", () => {
  it("a missing daily peak breaks the season within the hour; the ordinary days before never do", () => {
    const b = new SeasonBreakBank();
    b.add();
    const rng = new Rng(3);
    let t = T0;
    let quiet = 0;
    for (let k = 0; k < 6 * PER_DAY; k++, t += STEP) if (b.update(0, dailyWave(rng, t), t, DAY_MS) > 0) quiet++;
    expect(quiet).toBe(0);
    // day 7: the peak does not come
    let first = -1;
    for (let k = 0; k < PER_DAY; k++, t += STEP) {
      const r = b.update(0, dailyWave(rng, t, false), t, DAY_MS);
      if (r > 0 && first < 0) first = k;
    }
    const h = (first * STEP) / 3_600_000;
    expect(h).toBeGreaterThan(9);
    expect(h).toBeLessThan(11);
    // day 8 without a peak again: the envelope holds yesterday's flat day, so no second alarm
    let again = 0;
    for (let k = 0; k < PER_DAY; k++, t += STEP) if (b.update(0, dailyWave(rng, t, false), t, DAY_MS) > 0) again++;
    expect(again).toBe(0);
  });

  it("needs a season of at least 12 h and three earlier days; a 3-point drop is no run", () => {
    const rng = new Rng(5);
    // an hourly season is not a time of day
    const hourly = new SeasonBreakBank();
    hourly.add();
    for (let k = 0, t = T0; k < 4 * PER_DAY; k++, t += STEP) expect(hourly.update(0, dailyWave(rng, t, k < 3 * PER_DAY), t, 3_600_000)).toBe(0);
    // two days of history are not enough for an envelope of three: the third day's missing peak passes
    const young = new SeasonBreakBank();
    young.add();
    for (let k = 0, t = T0; k < 3 * PER_DAY; k++, t += STEP) expect(young.update(0, dailyWave(rng, t, k < 2 * PER_DAY), t, DAY_MS)).toBe(0);
    // five ordinary days, then three points at night level at noon
    const b = new SeasonBreakBank();
    b.add();
    let t = T0;
    for (let k = 0; k < 5 * PER_DAY + (12 * 3_600_000) / STEP; k++, t += STEP) b.update(0, dailyWave(rng, t), t, DAY_MS);
    const hits = [0, 1, 2].map((k) => b.update(0, 20, t + k * STEP, DAY_MS));
    expect(hits).toEqual([0, 0, 0]);
    // the same drop held for an hour is a break
    let broke = false;
    for (let k = 3; k < 15; k++) broke ||= b.update(0, 20, t + k * STEP, DAY_MS) > 0;
    expect(broke).toBe(true);
  });

  it("score() judges without learning: the bank's state is unchanged", () => {
    const b = new SeasonBreakBank();
    b.add();
    b.add();
    const rng = new Rng(9);
    let t = T0;
    for (let k = 0; k < 4 * PER_DAY; k++, t += STEP) {
      b.update(0, dailyWave(rng, t), t, DAY_MS);
      b.update(1, dailyWave(rng, t), t, DAY_MS);
    }
    const before = JSON.stringify(b.serialize());
    b.score(1, 500, t, DAY_MS);
    expect(JSON.stringify(b.serialize())).toBe(before);
  });

  it("in the engine: the missing peak scores ≥ 60 as a seasonal anomaly, where the engine without it stays below", () => {
    const run = (seasonBreak: boolean) => {
      const e = new DetectionEngine({ seasonBreak });
      const rng = new Rng(21);
      const x = new Float64Array(1);
      let t = T0;
      let before = 0;
      for (let k = 0; k < 8 * PER_DAY; k++, t += STEP) {
        x[0] = dailyWave(rng, t);
        if (e.step(t, ["s"], x).score[0]! >= 60) before++;
      }
      let peak = 0;
      const types = new Set<string>();
      for (let k = 0; k < PER_DAY; k++, t += STEP) {
        x[0] = dailyWave(rng, t, false);
        const r = e.step(t, ["s"], x);
        peak = Math.max(peak, r.score[0]!);
        if (r.type[0]) types.add(r.type[0]);
      }
      // the season-break state round-trips: a restored engine scores the next point the same
      const restored = DetectionEngine.restore(JSON.parse(JSON.stringify(e.serialize())));
      x[0] = 20;
      const next = [e.step(t, ["s"], x).score[0]!, restored.step(t, ["s"], x).score[0]!];
      return { before, peak, next, types };
    };
    const on = run(true);
    const off = run(false);
    expect(off.peak).toBeLessThan(60);
    expect(on.peak).toBeGreaterThanOrEqual(60);
    expect(on.before).toBe(off.before);
    expect(on.next[1]).toBe(on.next[0]);
    // what the season-aware view saw, not a trend: the value itself is ordinary for the night
    expect([...on.types]).toContain("seasonal");
  });
});
