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

describe("RecordBank: recurrence", () => {
  /** A quiet stream (0..1) with a spike of `h` at each of `at`; returns the points judged recurrent. */
  function recurrentAt(at: number[], h: (k: number) => number, params = {}): number[] {
    const b = new RecordBank({ minHits: 3, ...params });
    b.add();
    const r = rng(7);
    const out: number[] = [];
    const last = Math.max(...at) + 10;
    for (let t = 0; t <= last; t++) {
      const k = at.indexOf(t);
      b.update(0, k >= 0 ? h(k) : r(), t * 5 * MIN);
      if (b.recurrent(0)) out.push(t);
    }
    return out;
  }
  const every300 = [400, 700, 1000, 1300, 1600, 1900];

  it("calls a spike of the same size recurrent after three earlier ones at the usual rate", () => {
    expect(recurrentAt(every300, () => 50)).toEqual([1300, 1600, 1900]);
    // spikes a little smaller than the record are the same story
    expect(recurrentAt(every300, (k) => 50 - 3 * k)).toEqual([1300, 1600, 1900]);
  });

  it("is off by default (minHits 0)", () => {
    expect(recurrentAt(every300, () => 50, { minHits: 0 })).toEqual([]);
  });

  it("a new record, a much smaller spike or spikes coming faster than usual are not recurrent", () => {
    // the fifth spike is 1.5× every earlier one
    expect(recurrentAt(every300, (k) => (k === 4 ? 75 : 50))).toEqual([1300]);
    // (and the sixth, 50, is now under 0.7× that record: a spike of another size, judged on its own)
    // the fifth is well under 0.7× the record: a spike of another size
    expect(recurrentAt(every300, (k) => (k === 4 ? 20 : 50))).toEqual([1300, 1900]);
    // after four spikes 300 points apart, two come 50 points apart: their rate rose
    expect(recurrentAt([400, 700, 1000, 1300, 1350, 1400], () => 50)).toEqual([1300]);
  });

  it("keeps a quiet peak of the scores it is told, halving every quietHalfLife points, and restores a version-2 state with a quiet stream", () => {
    const b = new RecordBank({ quietHalfLife: 10 });
    b.add();
    b.noteScore(0, 80);
    for (let k = 0; k < 10; k++) b.noteScore(0, 0);
    expect(b.quietPeak(0)).toBeCloseTo(40, 6);
    b.noteScore(0, 70);
    expect(b.quietPeak(0)).toBe(70);
    const saved = JSON.parse(JSON.stringify(b.serialize())) as { version: number; cols: Record<string, unknown> };
    expect(RecordBank.restore(saved).quietPeak(0)).toBe(70);
    delete saved.cols.quiet;
    const v2 = RecordBank.restore({ ...saved, version: 2 });
    expect(v2.quietPeak(0)).toBe(0);
  });

  it("restores a version-1 state (before recurrence) and learns recurrence afresh", () => {
    const b = new RecordBank({ minHits: 3 });
    b.add();
    for (let t = 0; t < 500; t++) b.update(0, t % 2, t * MIN);
    const v2 = b.serialize() as unknown as { version: number; cols: Record<string, unknown> };
    const v1 = { ...v2, version: 1, cols: Object.fromEntries(Object.entries(v2.cols).filter(([k]) => ["med", "mad", "up", "down", "n", "lastT"].includes(k))) };
    const v1Params = { ...v1, params: { minRatio: 1.2, minDev: 4, minObs: 300, rate: 0.01, halfLifeMs: 30 * 86_400_000 } };
    const c = RecordBank.restore(JSON.parse(JSON.stringify(v1Params)), { minHits: 3 });
    expect(c.params.minHits).toBe(3);
    expect(c.update(0, 100, 500 * MIN)).toBe(b.update(0, 100, 500 * MIN));
    expect(c.recurrent(0)).toBe(false);
    // an engine restored from such a state runs the rule its options ask for
    const e = new DetectionEngine({ tier2: { enabled: false } });
    e.addStream("x", "gauge");
    e.step(0, ["x"], Float64Array.of(1));
    const state = JSON.parse(JSON.stringify(e.serialize())) as { rec: { version: number; params: Record<string, unknown> } };
    state.rec.version = 1;
    delete state.rec.params.minHits;
    expect(() => DetectionEngine.restore(state)).not.toThrow();
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

  it("reports a quiet stream's same-size spike three times; the fourth at the same rate is not news", () => {
    const spikes = [600, 900, 1200, 1500];
    const alarmed = (recurrenceHits: number): number[] => {
      const e = new DetectionEngine({ tier2: { enabled: false }, recurrenceHits });
      e.addStream("cpu", "gauge");
      const r = rng(9);
      const out: number[] = [];
      for (let t = 0; t <= 1600; t++) {
        const x = spikes.includes(t) ? 20 : 1 + 0.1 * r();
        if (e.step(t * 5 * MIN, ["cpu"], Float64Array.of(x)).score[0]! >= 60) out.push(t);
      }
      return out;
    };
    expect(alarmed(3)).toEqual([600, 900, 1200]);
    // without the rule the likelihood has not yet learnt these spikes: the fourth alarms too
    expect(alarmed(0)).toEqual(spikes);
  });

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
