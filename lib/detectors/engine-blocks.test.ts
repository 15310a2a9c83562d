import { describe, expect, it } from "vitest";
import { DetectionEngine, type StepResult } from "./engine";
import { Rng } from "./rng";
import { SoA } from "./soa";

const T0 = 1_700_000_000_000;
const STEP = 60_000;

/** Everything a step reports, in plain data (NaN kept apart from null by JSON's "null" + a flag). */
function snapshot(r: StepResult): unknown {
  const arr = (a: Float64Array) => Array.from(a, (v) => (Number.isNaN(v) ? "NaN" : v));
  return {
    score: arr(r.score),
    confidence: arr(r.confidence),
    expected: arr(r.expected),
    lower: arr(r.lower),
    upper: arr(r.upper),
    isAnomaly: Array.from(r.isAnomaly),
    inEvent: Array.from(r.inEvent),
    severity: r.severity.slice(),
    type: r.type.slice(),
    gap: r.gap.slice(),
    mv: [r.multivariateScore, r.multivariateConfidence, r.overallScore],
    changes: JSON.parse(JSON.stringify(r.changes)),
  };
}

/**
 * `n` streams over `steps` minutes with what exercises every path of a step: counters (one
 * resets), gaps long enough to open gap events, spikes, level shifts and a flat-lined stream.
 * Row r: the present streams' ids and values.
 */
function population(n: number, steps: number): { ids: string[]; values: Float64Array }[] {
  const rng = new Rng(7);
  const rows = [];
  for (let r = 0; r < steps; r++) {
    const ids: string[] = [];
    const vals: number[] = [];
    for (let i = 0; i < n; i++) {
      if (i % 13 === 0 && r % 60 > 45) continue; // gaps
      let v = 100 + 10 * Math.sin(r / 6 + i) + rng.next();
      if (i % 7 === 3) v = r * 50 + i + (i % 17) - (i === 3 && r > 80 ? 4000 : 0); // counters, one reset
      if ((i * 31 + r) % 397 === 0) v += 300; // spikes
      if (i % 11 === 0 && r > 100) v += 40; // level shifts
      if (i === 5 && r > 70 && r < 120) v = 42; // flat line
      ids.push(`s${i}`);
      vals.push(v);
    }
    rows.push({ ids, values: Float64Array.from(vals) });
  }
  return rows;
}

function engineWith(n: number, setup: (e: DetectionEngine) => void = () => {}): DetectionEngine {
  const e = new DetectionEngine({ warmupSteps: 20 });
  setup(e);
  for (let i = 0; i < n; i++) e.addStream(`s${i}`, i % 7 === 3 ? "counter" : "gauge");
  return e;
}

describe("DetectionEngine blocked stepping", () => {
  it("gives the same results as one stream at a time and as one block (1,300 streams: three blocks of 512)", () => {
    const n = 1300;
    const rows = population(n, 160);
    const engines = [engineWith(n), engineWith(n, (e) => e.setStepBlock(1)), engineWith(n, (e) => e.setStepBlock(n)), engineWith(n, (e) => e.setStepBlock(100))];
    let changes = 0;
    const types = new Set<string>();
    rows.forEach((row, r) => {
      const [ref, ...others] = engines.map((e) => snapshot(e.step(T0 + r * STEP, row.ids, row.values)));
      for (const o of others) expect(o).toEqual(ref);
      const c = (ref as { changes: { event: { type: string } }[] }).changes;
      changes += c.length;
      for (const ch of c) types.add(ch.event.type);
    });
    // the comparison covered events of several kinds, gap events included
    expect(changes).toBeGreaterThan(50);
    expect(types.has("gap")).toBe(true);
    const state = JSON.stringify(engines[0]!.serialize());
    for (const e of engines.slice(1)) expect(JSON.stringify(e.serialize())).toBe(state);
  });

  it("stepSlots over blocks equals step by id", () => {
    const n = 1100;
    const rows = population(n, 60);
    const byId = engineWith(n);
    const bySlot = engineWith(n);
    const slots = new Int32Array(n);
    rows.forEach((row, r) => {
      row.ids.forEach((id, k) => (slots[k] = bySlot.streamIndex(id)));
      const a = snapshot(byId.step(T0 + r * STEP, row.ids, row.values));
      const b = snapshot(bySlot.stepSlots(T0 + r * STEP, slots, row.values, row.ids.length));
      expect(b).toEqual(a);
    });
  });

  it("rejects a block size that is not a positive integer", () => {
    const e = new DetectionEngine();
    expect(() => e.setStepBlock(0)).toThrow();
    expect(() => e.setStepBlock(1.5)).toThrow();
  });
});

describe("DetectionEngine.reserveStreams", () => {
  it("reserving then adding keeps state and results identical to growing stream by stream", () => {
    const n = 700;
    const rows = population(n, 60);
    const grown = new DetectionEngine({ warmupSteps: 20 });
    const reserved = new DetectionEngine({ warmupSteps: 20 });
    // a few streams first, then a batch (the worker reserves per batch of new streams)
    const add = (e: DetectionEngine, from: number, to: number) => {
      for (let i = from; i < to; i++) e.addStream(`s${i}`, i % 7 === 3 ? "counter" : "gauge");
    };
    add(grown, 0, 5);
    reserved.reserveStreams(5);
    add(reserved, 0, 5);
    const five = (row: { ids: string[]; values: Float64Array }) => {
      const k = row.ids.findIndex((id) => Number(id.slice(1)) >= 5);
      return { ids: row.ids.slice(0, k), values: row.values.subarray(0, k) };
    };
    for (let r = 0; r < 10; r++) {
      const row = five(rows[r]!);
      expect(snapshot(reserved.step(T0 + r * STEP, row.ids, row.values))).toEqual(snapshot(grown.step(T0 + r * STEP, row.ids, row.values)));
    }
    add(grown, 5, n);
    reserved.reserveStreams(n - 5);
    reserved.reserveStreams(0); // nothing to do
    add(reserved, 5, n);
    expect(JSON.stringify(reserved.serialize())).toBe(JSON.stringify(grown.serialize()));
    for (let r = 10; r < rows.length; r++) {
      const row = rows[r]!;
      expect(snapshot(reserved.step(T0 + r * STEP, row.ids, row.values))).toEqual(snapshot(grown.step(T0 + r * STEP, row.ids, row.values)));
    }
    expect(JSON.stringify(reserved.serialize())).toBe(JSON.stringify(grown.serialize()));
  });
});

describe("DetectionEngine stream slots", () => {
  it("a stream added into a removed stream's slot starts from a fresh state (banks skip clearing only never-used slots)", () => {
    const opts = { warmupSteps: 20, tier2: { enabled: false } };
    const rows = population(10, 80);
    const pick = (row: { ids: string[]; values: Float64Array }, keep: (id: string) => boolean) => {
      const k = row.ids.map((id, j) => (keep(id) ? j : -1)).filter((j) => j >= 0);
      return { ids: k.map((j) => row.ids[j]!), values: Float64Array.from(k, (j) => row.values[j]!) };
    };
    const reused = new DetectionEngine(opts);
    const clean = new DetectionEngine(opts);
    for (let i = 0; i < 10; i++) reused.addStream(`s${i}`);
    for (let i = 0; i < 9; i++) clean.addStream(`s${i}`);
    for (let r = 0; r < 50; r++) {
      const row = rows[r]!;
      reused.step(T0 + r * STEP, row.ids, row.values);
      const c = pick(row, (id) => id !== "s9");
      clean.step(T0 + r * STEP, c.ids, c.values);
    }
    reused.removeStream("s9"); // the last slot: its state stays behind in the arrays
    reused.addStream("new");
    clean.addStream("new");
    for (let r = 50; r < rows.length; r++) {
      const row = pick(rows[r]!, (id) => id !== "s9");
      row.ids = row.ids.map((id) => (id === "s8" ? "new" : id));
      const a = snapshot(reused.step(T0 + r * STEP, row.ids, row.values));
      expect(snapshot(clean.step(T0 + r * STEP, row.ids, row.values))).toEqual(a);
    }
    expect(JSON.stringify(reused.serialize())).toBe(JSON.stringify(clean.serialize()));
  });
});

describe("SoA.reserve", () => {
  it("grows once to hold n streams (at least doubling), keeping the values", () => {
    const soa = new SoA({ a: 1, b: 3 }, 4);
    soa.cols.a.set([1, 2, 3, 4]);
    soa.cols.b.set([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(soa.reserve(3)).toBe(false);
    expect(soa.reserve(100)).toBe(true);
    expect(soa.cap).toBe(100);
    expect(soa.cols.a.length).toBe(100);
    expect(soa.cols.b.length).toBe(300);
    expect(Array.from(soa.cols.a.subarray(0, 5))).toEqual([1, 2, 3, 4, 0]);
    expect(Array.from(soa.cols.b.subarray(0, 13))).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0]);
    // a small reservation past the capacity still doubles (repeated small batches stay O(1) each)
    expect(soa.reserve(101)).toBe(true);
    expect(soa.cap).toBe(200);
  });

  it("move and clear handle one-value and many-value fields", () => {
    const soa = new SoA({ a: 1, b: 2 }, 4);
    soa.cols.a.set([1, 2, 3]);
    soa.cols.b.set([1, 1, 2, 2, 3, 3]);
    soa.move(2, 0);
    expect(Array.from(soa.cols.a.subarray(0, 3))).toEqual([3, 2, 3]);
    expect(Array.from(soa.cols.b.subarray(0, 6))).toEqual([3, 3, 2, 2, 3, 3]);
    soa.clear(1);
    expect(Array.from(soa.cols.a.subarray(0, 3))).toEqual([3, 0, 3]);
    expect(Array.from(soa.cols.b.subarray(0, 6))).toEqual([3, 3, 0, 0, 3, 3]);
  });
});
