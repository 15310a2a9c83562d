import { describe, expect, it } from "vitest";
import { TailCalibrator } from "./calibration";
import { FlatlineBank } from "./flatline";
import { Rng } from "./rng";
import { gauss } from "./test-noise";
import { ShiftCusumBank } from "./shift-cusum";
import { VarianceShiftBank } from "./variance-shift";

const T0 = 1_700_000_000_000;
const MIN = 60_000;


describe("ShiftCusumBank (Page 1954 CUSUM on a slow reference)", () => {
  it("known answer: quiet on 2 days of N(0,1), alarms within 20 points of a +3σ shift", () => {
    const b = new ShiftCusumBank();
    b.add();
    const rng = new Rng(3);
    const n0 = 2 * 1440;
    let falseAlarms = 0;
    for (let t = 0; t < n0; t++) if (b.update(0, gauss(rng), T0 + t * MIN) > 0) falseAlarms++;
    expect(falseAlarms).toBe(0);
    let first = -1;
    for (let t = 0; t < 60 && first < 0; t++) if (b.update(0, 3 + gauss(rng), T0 + (n0 + t) * MIN) > 0) first = t;
    expect(first).toBeGreaterThanOrEqual(2);
    expect(first).toBeLessThan(20);
  });

  it("adopts a permanent shift after adoptAfterMs and stops alarming", () => {
    const b = new ShiftCusumBank();
    b.add();
    const rng = new Rng(4);
    const n0 = 2 * 1440;
    for (let t = 0; t < n0; t++) b.update(0, gauss(rng), T0 + t * MIN);
    let lastAlarm = -1;
    for (let t = 0; t < 600; t++) if (b.update(0, 5 + gauss(rng), T0 + (n0 + t) * MIN) > 0) lastAlarm = t;
    expect(lastAlarm).toBeGreaterThan(0);
    expect(lastAlarm).toBeLessThan(200);
  });

  it("serialise/restore gives identical next outputs", () => {
    const b = new ShiftCusumBank();
    b.add();
    b.add();
    const rng = new Rng(5);
    for (let t = 0; t < 3000; t++) for (let i = 0; i < 2; i++) b.update(i, gauss(rng) + (t > 2900 ? 4 : 0), T0 + t * MIN);
    const r = ShiftCusumBank.restore(JSON.parse(JSON.stringify(b.serialize())));
    for (let t = 3000; t < 3100; t++) {
      const x = gauss(rng) + 4;
      expect(r.score(1, x, T0 + t * MIN)).toBe(b.score(1, x, T0 + t * MIN));
      expect(r.update(1, x, T0 + t * MIN)).toBe(b.update(1, x, T0 + t * MIN));
    }
  });
});

describe("FlatlineBank", () => {
  it("a stream that sits at 0 with rare 1s (a zero-inflated count) is never stuck", () => {
    const b = new FlatlineBank();
    b.add();
    for (let t = 1; t <= 3000; t++) expect(b.update(0, t % 700 === 0 ? 1 : 0, T0 + t * 1000)).toBe(0);
  });
  it("known answer: noisy stream frozen for 10 points reports 1 at the 10th repeat", () => {
    const b = new FlatlineBank();
    b.add();
    const rng = new Rng(6);
    for (let t = 0; t < 500; t++) expect(b.update(0, gauss(rng), T0 + t * MIN)).toBe(0);
    const out: number[] = [];
    for (let t = 0; t < 12; t++) out.push(b.update(0, 1.2345, T0 + (500 + t) * MIN));
    // the first value starts the run; repeats 2..9 are below the bar of 10
    expect(out.slice(0, 9).every((v) => v === 0)).toBe(true);
    expect(out[9]).toBe(1);
    expect(out[11]).toBeCloseTo(1.2);
  });

  it("a stream that routinely sits still (sparse counts) is never stuck", () => {
    const b = new FlatlineBank();
    b.add();
    const rng = new Rng(7);
    let hits = 0;
    for (let t = 0; t < 5000; t++) hits += b.update(0, rng.next() < 0.05 ? 1 : 0, T0 + t * MIN) > 0 ? 1 : 0;
    expect(hits).toBe(0);
  });

  it("serialise/restore gives identical next outputs", () => {
    const b = new FlatlineBank();
    b.add();
    const rng = new Rng(8);
    for (let t = 0; t < 600; t++) b.update(0, t > 580 ? 3 : gauss(rng), T0 + t * MIN);
    const r = FlatlineBank.restore(JSON.parse(JSON.stringify(b.serialize())));
    for (let t = 0; t < 30; t++) expect(r.update(0, 3, 0)).toBe(b.update(0, 3, 0));
  });
});

describe("TailCalibrator.extremeLevel", () => {
  it("known answer: returns the ~3rd largest recent score within one log bin", () => {
    const c = new TailCalibrator();
    c.add(2, 0.4);
    const rng = new Rng(9);
    for (let k = 0; k < 10_000; k++) c.update(0, rng.next() * 2);
    for (const s of [30, 12, 9]) c.update(0, s);
    const lv = c.extremeLevel(0, 3);
    expect(lv).toBeGreaterThan(9 / 1.34);
    expect(lv).toBeLessThan(9 * 1.34);
  });
});

describe("VarianceShiftBank (EWMA scale ratio)", () => {
  it("known answer: quiet on N(0,1) residuals, alarms within 50 points of a ×4 variance", () => {
    const b = new VarianceShiftBank();
    b.add();
    const rng = new Rng(21);
    let falseAlarms = 0;
    for (let t = 0; t < 3000; t++) if (b.update(0, gauss(rng)) > 0) falseAlarms++;
    expect(falseAlarms).toBe(0);
    let first = -1;
    for (let t = 0; t < 100 && first < 0; t++) if (b.update(0, 4 * gauss(rng)) > 0) first = t;
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(50);
  });

  it("serialise/restore gives identical next outputs", () => {
    const b = new VarianceShiftBank();
    b.add();
    const rng = new Rng(22);
    for (let t = 0; t < 1000; t++) b.update(0, gauss(rng) * (t > 980 ? 5 : 1));
    const r = VarianceShiftBank.restore(JSON.parse(JSON.stringify(b.serialize())));
    for (let t = 0; t < 50; t++) {
      const e = 5 * gauss(rng);
      expect(r.score(0, e)).toBe(b.score(0, e));
      expect(r.update(0, e)).toBe(b.update(0, e));
    }
  });
});
