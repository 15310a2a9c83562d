import { describe, expect, it } from "vitest";
import { CountCusumBank } from "./count-cusum";
import { DetectionEngine } from "./engine";
import { Rng } from "./rng";
import { poissonDraw } from "./test-draws";

const T0 = 1_700_000_000_000;
const MIN = 60_000;

describe("CountCusumBank (Poisson CUSUM, Lucas 1985)", () => {
  it("known answer: LLR of rate ×2 accumulates x·ln2 − λ per step (λ = reference level + season)", () => {
    const b = new CountCusumBank({ minObs: 1, stepCap: 10 });
    b.add();
    b.update(0, 1, T0); // first count: the reference level starts at 1
    expect(b.statistic(0)).toBe(0);
    b.update(0, 4, T0 + MIN); // λ = 1: 4·ln 2 − 1 (φ at its floor 1)
    expect(b.statistic(0)).toBeCloseTo(4 * Math.LN2 - 1, 12);
    // a season raises λ: 3 + 1 expected → 4·ln 2 − 4 < 0, and a floor above it wins
    const c = new CountCusumBank({ minObs: 1, stepCap: 10 });
    c.add();
    c.update(0, 1, T0);
    c.update(0, 4, T0 + MIN, 3);
    expect(c.statistic(0)).toBe(0);
    const f = new CountCusumBank({ minObs: 1, stepCap: 10 });
    f.add();
    f.update(0, 1, T0);
    f.update(0, 4, T0 + MIN, 0, 5);
    expect(f.statistic(0)).toBe(0);
  });

  it("quiet on 3 days of Poisson(2); a ×4 rate alarms within 6 steps; one 30-count row does not", () => {
    const b = new CountCusumBank();
    b.add();
    const rng = new Rng(11);
    let t = 0;
    let alarms = 0;
    for (; t < 3 * 1440; t++) if (b.update(0, poissonDraw(rng, 2), T0 + t * MIN) > 0) alarms++;
    expect(alarms).toBe(0);
    // a single burst row (one client retrying in a loop) is capped below the threshold
    expect(b.update(0, 30, T0 + t++ * MIN)).toBe(0);
    for (let k = 0; k < 60; k++) b.update(0, poissonDraw(rng, 2), T0 + t++ * MIN);
    let first = -1;
    for (let k = 0; k < 60 && first < 0; k++) if (b.update(0, poissonDraw(rng, 8), T0 + t++ * MIN) > 0) first = k;
    expect(first).toBeGreaterThanOrEqual(2);
    expect(first).toBeLessThan(6);
  });

  it("the slow reference holds the old rate while a ×2.2 rate lasts (until adoption); a fast one does not", () => {
    // what a forecaster adapting within minutes would do: λ follows the counts (floor = recent mean)
    const slow = new CountCusumBank();
    const fast = new CountCusumBank();
    slow.add();
    fast.add();
    const rng = new Rng(12);
    let recent = 8;
    let t = 0;
    for (; t < 2 * 1440; t++) {
      const x = poissonDraw(rng, 8);
      slow.update(0, x, T0 + t * MIN);
      fast.update(0, x, T0 + t * MIN, 0, recent);
      recent += 0.1 * (x - recent);
    }
    let slowAlarm = 0;
    let fastAlarm = 0;
    for (let k = 0; k < 40; k++, t++) {
      const x = poissonDraw(rng, 17.6);
      if (slow.update(0, x, T0 + t * MIN) > 0) slowAlarm++;
      if (fast.update(0, x, T0 + t * MIN, 0, recent) > 0) fastAlarm++;
      recent += 0.1 * (x - recent);
    }
    expect(slowAlarm).toBeGreaterThanOrEqual(25); // then the 30-min adoption ends it
    expect(fastAlarm).toBeLessThan(10);
  });

  it("ignores streams that are not small counts (fractions, large means)", () => {
    const b = new CountCusumBank();
    b.add();
    b.add();
    for (let t = 0; t < 200; t++) {
      b.update(0, 2.5, T0 + t * MIN);
      b.update(1, 100, T0 + t * MIN);
    }
    expect(b.isCount(0)).toBe(false);
    expect(b.isCount(1)).toBe(false);
    for (let t = 200; t < 230; t++) {
      expect(b.update(0, 20.5, T0 + t * MIN)).toBe(0);
      expect(b.update(1, 400, T0 + t * MIN)).toBe(0);
    }
  });

  it("serialise/restore gives identical next outputs; a version-1 state restores", () => {
    const b = new CountCusumBank();
    b.add();
    const rng = new Rng(5);
    for (let t = 0; t < 500; t++) b.update(0, poissonDraw(rng, t > 480 ? 6 : 1.5), T0 + t * MIN, 0.2, 1);
    const r = CountCusumBank.restore(JSON.parse(JSON.stringify(b.serialize())));
    for (let t = 500; t < 560; t++) {
      const x = poissonDraw(rng, 6);
      expect(r.score(0, x, T0 + t * MIN, 0.2, 1)).toBe(b.score(0, x, T0 + t * MIN, 0.2, 1));
      expect(r.update(0, x, T0 + t * MIN, 0.2, 1)).toBe(b.update(0, x, T0 + t * MIN, 0.2, 1));
    }
    const v1 = b.serialize() as unknown as { version: number; cols: Record<string, string> };
    v1.version = 1;
    delete v1.cols.lvl;
    delete v1.cols.fast;
    delete v1.cols.alarmT;
    const old = CountCusumBank.restore(JSON.parse(JSON.stringify(v1)));
    expect(old.size).toBe(1);
    expect(old.update(0, 3, T0 + 600 * MIN)).toBe(0); // re-learns its reference
  });
});

describe("DetectionEngine: sparse count bursts", () => {
  /** 3 days of failures per minute following a daily load (≈ 0.3–2.4/min), then ×4 for an hour. */
  function run(countCusum: boolean): { inBurst: number; before: number } {
    // likelihood off without the CUSUM: the comparison isolates what the CUSUM itself adds
    const e = new DetectionEngine({ countCusum, tier2: { enabled: false }, ...(countCusum ? {} : { likelihood: false }) });
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
      v[0] = poissonDraw(rng, lambda) + (rng.next() < 1 / 700 ? 6 + Math.floor(20 * rng.next()) : 0);
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

describe("DetectionEngine: a lasting new count rate is adopted", () => {
  it("a sparse count that quadruples for good alarms, then stops within an hour (adaptation)", () => {
    const e = new DetectionEngine({ tier2: { enabled: false } });
    e.addStream("failures", "gauge");
    const rng = new Rng(8);
    const ids = ["failures"];
    const v = new Float64Array(1);
    const at = 3 * 1440 + 14 * 60;
    let first = -1;
    let last = -1;
    for (let t = 0; t < at + 6 * 60; t++) {
      const load = 0.55 - 0.45 * Math.cos((2 * Math.PI * (t % 1440)) / 1440 - 0.5);
      v[0] = poissonDraw(rng, 2.4 * load * (t >= at ? 4 : 1));
      const r = e.step(T0 + t * MIN, ids, v);
      if (t >= at && r.isAnomaly[0] === 1) {
        if (first < 0) first = t - at;
        last = t - at;
      }
    }
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(15);
    expect(last).toBeLessThan(60);
  });
});

describe("DetectionEngine: a moderate rate rise on a seasonal count", () => {
  it("retransmits ×2.2 for 3 hours (daily cycle learnt) open an event: the reference does not chase the rise", () => {
    const e = new DetectionEngine({ tier2: { enabled: false } });
    e.addStream("tcp_retransmits", "gauge");
    const rng = new Rng(17);
    const ids = ["tcp_retransmits"];
    const v = new Float64Array(1);
    const at = 3 * 1440 + 10 * 60;
    let hits = 0;
    let before = 0;
    for (let t = 0; t < at + 180; t++) {
      const load = 0.55 - 0.45 * Math.cos((2 * Math.PI * (t % 1440)) / 1440 - 0.5);
      v[0] = poissonDraw(rng, (2 + 10 * load) * (t >= at ? 2.2 : 1));
      const r = e.step(T0 + t * MIN, ids, v);
      if (r.inEvent[0] === 1) {
        if (t >= at) hits++;
        else if (t >= 2 * 1440) before++;
      }
    }
    expect(before).toBe(0);
    expect(hits).toBeGreaterThan(0);
  });
});

describe("CountCusumBank: reference memory in time", () => {
  it("known answer: a point 20 min after the last moves ℓ by 20/200 of its (clipped) residual", () => {
    const b = new CountCusumBank();
    b.add();
    let t = 0;
    for (; t < 150; t++) b.update(0, 2, T0 + t * MIN);
    expect(b.level(0)).toBeCloseTo(2, 12);
    b.update(0, 3, T0 + (t - 1 + 20) * MIN);
    expect(b.level(0)).toBeCloseTo(2 + 0.1 * 1, 12);
  });

  it("15-minute counts with a weekly pattern (weekends ×0.45): no false events over 3 weeks", () => {
    const rng = new Rng(3);
    const stepMin = 15;
    const n = (28 * 1440) / stepMin;
    const ts = new Float64Array(n);
    const v = new Float64Array(n);
    const start = Date.UTC(2024, 0, 1);
    for (let i = 0; i < n; i++) {
      const t = start + i * stepMin * MIN;
      ts[i] = t;
      const h = (t / 3.6e6) % 24;
      const dow = Math.floor(t / 86.4e6) % 7; // 0 = Thursday: two low days a week
      const daily = 0.2 + 0.8 * Math.max(0, Math.sin(((h - 6) / 24) * 2 * Math.PI));
      v[i] = poissonDraw(rng, 10 * daily * (dow >= 5 ? 0.45 : 1));
    }
    const e = new DetectionEngine({ tier2: { enabled: false } });
    e.addStream("value", "gauge");
    const val = new Float64Array(1);
    let events = 0;
    for (let i = 0; i < n; i++) {
      val[0] = v[i]!;
      const r = e.step(ts[i]!, ["value"], val);
      if (i >= n / 4) for (const ch of r.changes) if (ch.kind === "opened") events++;
    }
    expect(events).toBe(0);
  });
});
