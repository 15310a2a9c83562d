import { describe, expect, it } from "vitest";
import { DetectionEngine } from "./engine";
import { RecordBank } from "./record";

const MIN = 60_000;

/** Deterministic pseudo-random numbers (LCG) so the streams are the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A bursty disk-write-like stream: near zero, with a burst of height 50–100 every ~40 points. */
function bursty(n: number, seed = 1): Float64Array {
  const r = rng(seed);
  const v = new Float64Array(n);
  for (let t = 0; t < n; t++) v[t] = r() < 0.025 ? 50 + 50 * r() : r();
  return v;
}

describe("RecordBank", () => {
  it("ignores routine bursts and reports a burst well above every earlier one", () => {
    const b = new RecordBank();
    b.add();
    const v = bursty(3000);
    let routine = 0;
    for (let t = 0; t < v.length; t++) if (b.update(0, v[t]!, t * 5 * MIN) > 0 && t > 1000) routine++;
    expect(routine).toBe(0);
    const r = b.update(0, 150, 3000 * 5 * MIN);
    expect(r).toBeGreaterThan(1.4);
    expect(r).toBeLessThan(1.6);
    // the record moved up: the same height again is no record
    expect(b.update(0, 150, 3001 * 5 * MIN)).toBe(0);
  });

  it("needs a margin over the old record, enough observations and a clear deviation", () => {
    const b = new RecordBank({ minObs: 100 });
    b.add();
    for (let t = 0; t < 99; t++) b.update(0, t % 2 === 0 ? 10 : 12, t * MIN);
    expect(b.update(0, 1000, 99 * MIN)).toBe(0); // the 100th observation: still learning
    const c = new RecordBank();
    c.add();
    // Gaussian-like noise: its largest deviation after 300 points is ~3σ; 1.2× that is < 4 MADs
    const r = rng(3);
    let hits = 0;
    for (let t = 0; t < 5000; t++) {
      const g = (r() + r() + r() + r() + r() + r() - 3) * Math.SQRT2;
      if (c.update(0, g, t * MIN) > 0) hits++;
    }
    expect(hits).toBeLessThanOrEqual(1);
  });

  it("forgets an old record with its half-life of data time", () => {
    const day = 86_400_000;
    const b = new RecordBank({ halfLifeMs: day, minObs: 10 });
    b.add();
    for (let t = 0; t < 300; t++) b.update(0, t === 200 ? 100 : t % 2, t * MIN);
    expect(b.score(0, 90, 300 * MIN)).toBe(0);
    // three days later the spike of 100 counts as 12.5: a 90 is a record
    expect(b.score(0, 90, 300 * MIN + 3 * day)).toBeGreaterThan(5);
  });

  it("serialises and restores to identical next outputs", () => {
    const b = new RecordBank();
    b.add();
    b.add();
    const v = bursty(800, 5);
    for (let t = 0; t < v.length; t++) {
      b.update(0, v[t]!, t * MIN);
      b.update(1, -v[t]!, t * MIN);
    }
    const c = RecordBank.restore(JSON.parse(JSON.stringify(b.serialize())));
    for (const x of [0.5, 140, -160, 200]) {
      expect(c.update(0, x, 900 * MIN)).toBe(b.update(0, x, 900 * MIN));
      expect(c.update(1, x, 900 * MIN)).toBe(b.update(1, x, 900 * MIN));
    }
  });
});

describe("DetectionEngine: record rule", () => {
  function run(recordRatio?: number): { routine: number; record: number; explanation: string } {
    const e = new DetectionEngine({ tier2: { enabled: false }, ...(recordRatio === undefined ? {} : { recordRatio }) });
    e.addStream("disk", "gauge");
    const v = bursty(4000, 11);
    // two points in a row (a single anomalous step does not open an event)
    v[3500] = 220;
    v[3501] = 300;
    let routine = 0;
    let record = 0;
    let explanation = "";
    for (let t = 0; t < v.length; t++) {
      const r = e.step(t * 5 * MIN, ["disk"], v.subarray(t, t + 1));
      if (t > 1000 && t < 3500 && r.score[0]! >= 60) routine++;
      if (t === 3500) record = r.score[0]!;
      for (const c of r.changes) if (c.kind === "opened" && t >= 3500) explanation = c.event.explanation;
    }
    return { routine, record, explanation };
  }

  it("bursts twice as tall as any before open an event on a bursty stream; routine bursts do not", () => {
    const on = run();
    expect(on.routine).toBe(0);
    expect(on.record).toBeGreaterThanOrEqual(60);
    expect(on.explanation).toMatch(/record: \d\.\d× the largest deviation seen/);
    // without the rule the likelihood has learnt that this stream bursts: the same burst is ordinary
    const off = run(0);
    expect(off.record).toBeLessThan(60);
    expect(off.routine).toBe(0);
  });
});
