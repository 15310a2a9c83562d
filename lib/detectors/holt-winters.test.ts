import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS, HoltWintersBank, phaseOf, WEEK_MS } from "./holt-winters";
import { Rng } from "./rng";
import { gauss } from "./test-noise";
import { poissonDraw } from "./test-draws";

const T0 = 1_700_000_000_000;


describe("holt-winters period detection (per-candidate bins)", () => {
  it("detects an hourly period from 1-minute data with 12 fine bins", () => {
    const b = new HoltWintersBank();
    b.add();
    const rng = new Rng(11);
    const f = (i: number): number => 50 + 10 * Math.sin((2 * Math.PI * i * 60_000) / HOUR_MS);
    for (let i = 0; i < 60 * 6; i++) b.update(0, f(i) + gauss(rng), T0 + i * 60_000);
    expect(b.period(0)).toBe(HOUR_MS);
  });

  it("detects a daily period from hourly data whose samples skip every other daily bin", () => {
    // 30-min daily bins, one sample an hour at :23:20, so every bin a sample closes has the same
    // parity: the evaluation bin must be passed, not hit
    for (const offset of [0, 1_400_000_000_000]) {
      const b = new HoltWintersBank();
      b.add();
      const rng = new Rng(13);
      const f = (i: number): number => 1000 + 0.3 * i + 200 * Math.sin((2 * Math.PI * i) / 24);
      for (let i = 0; i < 24 * 8; i++) b.update(0, f(i) + 20 * gauss(rng), offset + i * HOUR_MS);
      expect(b.period(0)).toBe(DAY_MS);
    }
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

describe("holt-winters time-of-day scale profile", () => {
  it("learns a narrow band at night and a wide one at peak when noise grows with the load", () => {
    const b = new HoltWintersBank();
    b.add();
    const rng = new Rng(3);
    const load = (t: number): number => 0.2 + 0.8 * Math.max(0, Math.sin((2 * Math.PI * (t % DAY_MS)) / DAY_MS));
    const day0 = Math.ceil(T0 / DAY_MS) * DAY_MS;
    let t = day0;
    for (let k = 0; k < 6 * 1440; k++, t += 60_000) b.update(0, 1000 * load(t) * (1 + 0.05 * gauss(rng)), t);
    const night = b.scale(0, day0 + 0.8 * DAY_MS);
    const peak = b.scale(0, day0 + 0.25 * DAY_MS);
    expect(peak / night).toBeGreaterThan(2.5);
    // a peak-sized value at night is far out, a peak-hour wobble of the same absolute size is not
    expect(b.score(0, 1000 * load(day0 + 0.8 * DAY_MS) + 150, day0 + 0.8 * DAY_MS)).toBeGreaterThan(8);
    expect(b.score(0, 1000 * load(day0 + 0.25 * DAY_MS) + 150, day0 + 0.25 * DAY_MS)).toBeLessThan(5);
  });

  it("restores a version-2 state (no profile) with a flat profile", () => {
    const b = new HoltWintersBank();
    b.add();
    for (let k = 0; k < 500; k++) b.update(0, 10 + (k % 7), T0 + k * 60_000);
    const st = b.serialize() as unknown as { version: number; cols: Record<string, string> };
    const v2 = { ...st, version: 2, cols: { ...st.cols } };
    delete v2.cols.rho;
    delete v2.cols.dSlow;
    delete v2.cols.rBin;
    delete v2.cols.rFrom;
    delete v2.cols.rNext;
    delete v2.cols.rInv;
    delete v2.cols.rAccE;
    delete v2.cols.rAccN;
    const r = HoltWintersBank.restore(v2);
    expect(r.scale(0, T0)).toBeCloseTo(r.scale(0), 12);
    expect(r.expected(0, T0 + 500 * 60_000)).toBe(b.expected(0, T0 + 500 * 60_000));
  });
});

describe("holt-winters regime memory", () => {
  const STEP = 5 * 60_000;
  const calm = (b: HoltWintersBank, rng: Rng, from: number, to: number) => {
    for (let k = from; k < to; k++) b.update(0, 50 + 1.5 * gauss(rng), T0 + k * STEP);
  };

  it("an excursion longer than the adoption time that then recovers: the recovery is not an anomaly", () => {
    const b = new HoltWintersBank();
    b.add();
    const rng = new Rng(21);
    calm(b, rng, 0, 600);
    const during: number[] = [];
    for (let k = 600; k < 610; k++) during.push(b.update(0, 90 + 1.5 * gauss(rng), T0 + k * STEP));
    expect(during[0]).toBeGreaterThan(15);
    expect(during[9]).toBeLessThan(3.5); // adopted after 30 min (6 points at 5 min)
    const back = [];
    for (let k = 610; k < 615; k++) back.push(b.update(0, 50 + 1.5 * gauss(rng), T0 + k * STEP));
    expect(Math.max(...back)).toBeLessThan(3.5);
    expect(b.expected(0, T0 + 615 * STEP)).toBeLessThan(55);
  });

  it("a shift that persists past revertWithinMs stays adopted (a move back later is a change again)", () => {
    const b = new HoltWintersBank();
    b.add();
    const rng = new Rng(22);
    calm(b, rng, 0, 600);
    for (let k = 600; k < 640; k++) b.update(0, 90 + 1.5 * gauss(rng), T0 + k * STEP); // 3 h 20 min
    expect(b.update(0, 50, T0 + 640 * STEP)).toBeGreaterThan(10);
  });

  it("restores a version-3 state (no adopted shift kept)", () => {
    const b = new HoltWintersBank();
    b.add();
    const rng = new Rng(23);
    calm(b, rng, 0, 300);
    const st = b.serialize() as unknown as { version: number; cols: Record<string, string> };
    const v3 = { ...st, version: 3, cols: { ...st.cols } };
    delete v3.cols.pShift;
    delete v3.cols.pShiftT;
    const r = HoltWintersBank.restore(v3);
    expect(r.update(0, 51, T0 + 300 * STEP)).toBe(b.update(0, 51, T0 + 300 * STEP));
  });
});

describe("holt-winters period choice", () => {
  it("keeps a daily period on hourly data with outliers (a week is only a multiple of it)", async () => {
    const { hashNoise } = await import("../scenarios/hash-noise");
    const b = new HoltWintersBank();
    b.add();
    for (let i = 0; i < 1210; i++) {
      const x = 100 + 30 * Math.sin((2 * Math.PI * i) / 24) + 3 * hashNoise(i) + (i === 900 || i === 1000 ? 60 : 0);
      b.update(0, x, 1_578_268_800_000 + i * 3_600_000);
    }
    expect(b.period(0)).toBe(DAY_MS);
  });
});

describe("holt-winters cycle-start cache (speed only: results unchanged)", () => {
  /** daily pattern + noise at 1-minute steps; stream k is phase-shifted by k hours */
  const value = (rng: Rng, k: number, t: number): number => 50 + 20 * Math.sin((2 * Math.PI * (t + 60 * k)) / 1440) + gauss(rng);

  it("a stream moved by remove() scores exactly as a restored copy (cache rebuilt from scratch)", () => {
    // slot 0 hourly, slot 1 daily: an unmoved cycle start would put slot 1's phase on the hour
    const a = new HoltWintersBank();
    a.add();
    a.add();
    const r0 = new Rng(31);
    const r1 = new Rng(32);
    for (let t = 0; t < 1440 * 3; t++) {
      const ts = T0 + t * 60_000;
      a.update(0, 50 + 10 * Math.sin((2 * Math.PI * t) / 60) + gauss(r0), ts);
      a.update(1, value(r1, 1, t), ts);
    }
    expect(a.period(0)).toBe(HOUR_MS);
    expect(a.period(1)).toBe(DAY_MS);
    a.remove(0); // stream 1 moves into slot 0
    const fresh = HoltWintersBank.restore(JSON.parse(JSON.stringify(a.serialize())));
    for (let t = 1440 * 3; t < 1440 * 3 + 600; t++) {
      const ts = T0 + t * 60_000;
      const x = value(r1, 1, t);
      expect(a.update(0, x, ts)).toBe(fresh.update(0, x, ts));
    }
  });

  it("a restored bank (empty cache) and a bank with irregular and fractional timestamps match phaseOf", () => {
    const b = new HoltWintersBank();
    b.add();
    const rng = new Rng(33);
    let ts = T0 + 0.25;
    for (let t = 0; t < 1440 * 3; t++) {
      ts += 60_000 + (t % 7 === 0 ? 37_000.5 : 0);
      b.update(0, value(rng, 0, t), ts);
    }
    expect(b.period(0)).toBe(DAY_MS);
    const r = HoltWintersBank.restore(JSON.parse(JSON.stringify(b.serialize())));
    for (let t = 0; t < 300; t++) {
      ts += 60_000 + (t % 5 === 0 ? 90_000.75 : 0);
      const x = value(rng, 0, t);
      expect(r.score(0, x, ts)).toBe(b.score(0, x, ts));
      expect(r.update(0, x, ts)).toBe(b.update(0, x, ts));
      expect(r.seasonal(0, ts)).toBe(b.seasonal(0, ts));
    }
  });
});

describe("holt-winters robust period check (winsorised ACF)", () => {
  it("a learnt daily season survives a 30-minute burst at ~30× the level (sparse counts)", () => {
    const b = new HoltWintersBank();
    b.add();
    const rng = new Rng(41);
    const poisson = (l: number): number => poissonDraw(rng, l);
    const burst = 3 * 1440 + 60; // 01:00 on day 4, for 30 minutes
    let lost = -1;
    let had = false;
    for (let t = 0; t < 6 * 1440; t++) {
      const load = 0.55 - 0.45 * Math.cos((2 * Math.PI * (t % 1440)) / 1440 - 0.5);
      const x = poisson(2.4 * load) + (t >= burst && t < burst + 30 ? 58 : 0);
      b.update(0, x, T0 + t * 60_000);
      if (b.period(0) === DAY_MS) had = true;
      else if (had && lost < 0 && t > burst) lost = t;
    }
    expect(had).toBe(true);
    expect(lost).toBe(-1);
    expect(b.period(0)).toBe(DAY_MS);
  });
});
