import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS, HoltWintersBank, phaseOf, WEEK_MS } from "./holt-winters";
import { Rng } from "./rng";

const T0 = 1_700_000_000_000;

function gauss(rng: Rng): number {
  let s = 0;
  for (let k = 0; k < 12; k++) s += rng.next();
  return s - 6;
}

describe("holt-winters period detection (per-candidate bins)", () => {
  it("detects an hourly period from 1-minute data with 12 fine bins", () => {
    const b = new HoltWintersBank();
    b.add();
    const rng = new Rng(11);
    const f = (i: number): number => 50 + 10 * Math.sin((2 * Math.PI * i * 60_000) / HOUR_MS);
    for (let i = 0; i < 60 * 6; i++) b.update(0, f(i) + gauss(rng), T0 + i * 60_000);
    expect(b.period(0)).toBe(HOUR_MS);
  });

  it("detects a daily period from 1-minute data", () => {
    const b = new HoltWintersBank();
    b.add();
    const rng = new Rng(12);
    const f = (i: number): number => 50 + 20 * Math.sin((2 * Math.PI * i * 60_000) / DAY_MS);
    for (let i = 0; i < 1440 * 4; i++) b.update(0, f(i) + gauss(rng), T0 + i * 60_000);
    expect(b.period(0)).toBe(DAY_MS);
  });

  it("restores a version-1 state (old uniform binning) and keeps scoring", () => {
    const b = new HoltWintersBank({ fineBins: 48 });
    b.add();
    const rng = new Rng(13);
    for (let i = 0; i < 2000; i++) b.update(0, 50 + gauss(rng), T0 + i * 60_000);
    const st = JSON.parse(JSON.stringify(b.serialize())) as { version: number; params: Record<string, unknown> };
    st.version = 1;
    delete st.params.fineBins;
    const r = HoltWintersBank.restore(st);
    for (let i = 2000; i < 2100; i++) {
      const x = 50 + gauss(rng);
      expect(r.update(0, x, T0 + i * 60_000)).toBe(b.update(0, x, T0 + i * 60_000));
    }
  });

  it("rejects candidate periods whose bin widths do not nest", () => {
    expect(() => new HoltWintersBank({ fineBins: 7 })).toThrow();
  });
});

describe("holt-winters phase (hot path without fmod)", () => {
  it("is bit-identical to (t % P) / P for integer, fractional and negative times", () => {
    const rng = new Rng(5);
    const ref = (t: number, P: number): number => {
      const ph = (t % P) / P;
      return ph < 0 ? ph + 1 : ph;
    };
    for (const P of [HOUR_MS, DAY_MS, WEEK_MS, 7_000]) {
      for (let k = 0; k < 20_000; k++) {
        const base = Math.floor(rng.next() * 2e12);
        const t = k % 3 === 0 ? base : k % 3 === 1 ? base + rng.next() : -base;
        expect(phaseOf(t, P)).toBe(ref(t, P));
      }
      for (let m = 0; m < 50; m++) {
        expect(phaseOf(m * P, P)).toBe(ref(m * P, P));
        expect(phaseOf(m * P - 1, P)).toBe(ref(m * P - 1, P));
      }
    }
  });
});
