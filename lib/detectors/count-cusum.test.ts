import { describe, expect, it } from "vitest";
import { CountCusumBank } from "./count-cusum";
import { DetectionEngine } from "./engine";
import { Rng } from "./rng";

const T0 = 1_700_000_000_000;
const MIN = 60_000;

/** Poisson draw by inversion (small λ). */
function poisson(rng: Rng, lambda: number): number {
  const u = rng.next();
  let k = 0;
  let p = Math.exp(-lambda);
  let cdf = p;
  while (u > cdf && k < 1000) {
    k++;
    p *= lambda / k;
    cdf += p;
  }
  return k;
}

describe("CountCusumBank (Poisson CUSUM, Lucas 1985)", () => {
  it("known answer: LLR of rate ×2 accumulates x·ln2 − λ per step", () => {
    const b = new CountCusumBank({ minObs: 1, stepCap: 10 });
    b.add();
    b.update(0, 1, T0, 1); // warm: λ = 1, x = 1 → 0.693 − 1 < 0 → S = 0
    expect(b.statistic(0)).toBe(0);
    b.update(0, 4, T0 + MIN, 1); // 4·ln 2 − 1 (φ: 1 at the floor)
    expect(b.statistic(0)).toBeCloseTo(4 * Math.LN2 - 1, 12);
  });

  it("quiet on 3 days of Poisson(2); a ×4 rate alarms within 6 steps; one 30-count row does not", () => {
    const b = new CountCusumBank();
    b.add();
    const rng = new Rng(11);
    let t = 0;
    let alarms = 0;
    for (; t < 3 * 1440; t++) if (b.update(0, poisson(rng, 2), T0 + t * MIN, 2) > 0) alarms++;
    expect(alarms).toBe(0);
    // a single burst row (one client retrying in a loop) is capped below the threshold
    expect(b.update(0, 30, T0 + t++ * MIN, 2)).toBe(0);
    for (let k = 0; k < 60; k++) b.update(0, poisson(rng, 2), T0 + t++ * MIN, 2);
    let first = -1;
    for (let k = 0; k < 60 && first < 0; k++) if (b.update(0, poisson(rng, 8), T0 + t++ * MIN, 2) > 0) first = k;
    expect(first).toBeGreaterThanOrEqual(2);
    expect(first).toBeLessThan(6);
  });

  it("ignores streams that are not small counts (fractions, large means)", () => {
    const b = new CountCusumBank();
    b.add();
    b.add();
    for (let t = 0; t < 200; t++) {
      b.update(0, 2.5, T0 + t * MIN, 2.5);
      b.update(1, 100, T0 + t * MIN, 100);
    }
    expect(b.isCount(0)).toBe(false);
    expect(b.isCount(1)).toBe(false);
    for (let t = 200; t < 230; t++) {
      expect(b.update(0, 20.5, T0 + t * MIN, 2.5)).toBe(0);
      expect(b.update(1, 400, T0 + t * MIN, 100)).toBe(0);
    }
  });

  it("serialise/restore gives identical next outputs", () => {
    const b = new CountCusumBank();
    b.add();
    const rng = new Rng(5);
    for (let t = 0; t < 500; t++) b.update(0, poisson(rng, t > 480 ? 6 : 1.5), T0 + t * MIN, 1.5);
    const r = CountCusumBank.restore(JSON.parse(JSON.stringify(b.serialize())));
    for (let t = 500; t < 560; t++) {
      const x = poisson(rng, 6);
      expect(r.score(0, x, T0 + t * MIN, 1.5)).toBe(b.score(0, x, T0 + t * MIN, 1.5));
      expect(r.update(0, x, T0 + t * MIN, 1.5)).toBe(b.update(0, x, T0 + t * MIN, 1.5));
    }
  });
});

describe("DetectionEngine: sparse count bursts", () => {
  /** 3 days of failures per minute following a daily load (≈ 0.3–2.4/min), then ×4 for an hour. */
  function run(countCusum: boolean): { inBurst: number; before: number } {
    const e = new DetectionEngine({ countCusum, tier2: { enabled: false } });
    e.addStream("auth_failures", "gauge");
    const rng = new Rng(21);
    const ids = ["auth_failures"];
    const v = new Float64Array(1);
    const burstAt = 3 * 1440 + 14 * 60; // 14:00 on day 4
    let inBurst = 0;
    let before = 0;
    for (let t = 0; t < burstAt + 90; t++) {
      const load = 0.55 - 0.45 * Math.cos((2 * Math.PI * (t % 1440)) / 1440 - 0.5);
      const lambda = 2.4 * load * (t >= burstAt && t < burstAt + 60 ? 4 : 1);
      v[0] = poisson(rng, lambda) + (rng.next() < 1 / 700 ? 6 + Math.floor(20 * rng.next()) : 0);
      const r = e.step(T0 + t * MIN, ids, v);
      if (r.inEvent[0] === 1) {
        if (t >= burstAt && t < burstAt + 65) inBurst++;
        else if (t >= 2 * 1440) before++;
      }
    }
    return { inBurst, before };
  }

  it("a 4× failure rate for an hour opens an event (not without the count CUSUM)", () => {
    const on = run(true);
    expect(on.inBurst).toBeGreaterThan(0);
    expect(on.before).toBe(0);
    expect(run(false).inBurst).toBe(0);
  });
});
