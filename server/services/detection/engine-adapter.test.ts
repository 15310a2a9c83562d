import { describe, expect, it } from "vitest";
import v8 from "node:v8";
import { createEngine, restoreEngine, withSettings } from "./engine-adapter";
import { isPackedState, packState, unpackState } from "./state-container";
import { encodeF64Column } from "@/lib/detectors/codec";
import { DetectionEngine } from "@/lib/detectors/engine";
import type { EnginePort } from "@/lib/detectors/engine-port";
import { DEFAULT_SETTINGS } from "@/lib/config/settings";

const T0 = 1_700_000_000_000;

function run(engine: EnginePort, reserve: boolean): unknown[] {
  const ids = Array.from({ length: 40 }, (_, k) => k + 1);
  if (reserve) engine.reserveStreams?.(ids.length);
  for (const id of ids) engine.addStream(id, id % 5 === 0 ? "counter" : "gauge");
  const out: unknown[] = [];
  for (let s = 0; s < 50; s++) {
    const values = Float64Array.from(ids, (id) => (id % 5 === 0 ? s * 10 + id : 10 + Math.sin(s + id) + (s === 40 && id === 7 ? 50 : 0)));
    const ts = new Float64Array(ids.length).fill(T0 + s * 10_000);
    const r = engine.step(T0 + s * 10_000, Int32Array.from(ids), values, ts);
    out.push({ score: Array.from(r.scores.score.subarray(0, r.scores.n)), expected: Array.from(r.scores.expected.subarray(0, r.scores.n), String), events: r.events });
  }
  out.push(engine.serialize());
  return out;
}

describe("EngineAdapter.reserveStreams", () => {
  it("reserving before adding a batch changes nothing but the allocations (also with the saved settings applied)", () => {
    const grown = run(createEngine(), false);
    expect(run(createEngine(), true)).toEqual(grown);
    expect(run(withSettings(createEngine()), true)).toEqual(grown);
  });

  it("rejects an unknown clock domain", () => {
    expect(() => createEngine().reserveStreams?.(10, 3)).toThrow(/no clock domain 3/);
  });
});

/**
 * A snapshot's state as snapshots held it before the binary container: every column base64
 * text (chunked when long), inside a V8 serialisation or a JSON text.
 */
function legacyTree(bytes: Uint8Array): unknown {
  const walk = (v: unknown): unknown => {
    if (v instanceof Float64Array) return encodeF64Column(v);
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(unpackState(bytes));
}

describe("restoreEngine", () => {
  /** Scores of the next steps of `engine` (the state's observable effect). */
  function next(engine: EnginePort, from: number): number[] {
    const ids = Array.from({ length: 40 }, (_, k) => k + 1);
    const out: number[] = [];
    for (let s = from; s < from + 10; s++) {
      const values = Float64Array.from(ids, (id) => (id % 5 === 0 ? s * 10 + id : 10 + Math.sin(s + id) + (s === from + 5 && id === 3 ? 40 : 0)));
      const r = engine.step(T0 + s * 10_000, Int32Array.from(ids), values, new Float64Array(ids.length).fill(T0 + s * 10_000));
      out.push(...r.scores.score.subarray(0, r.scores.n));
    }
    return out;
  }

  function trained(): EnginePort {
    const engine = createEngine();
    run(engine, true);
    // a second clock domain, so history domains and their clocks are part of the state
    const d = engine.historyDomain(T0 - 3_600_000);
    engine.addStream(1000, "gauge", d);
    engine.step(T0 - 3_600_000, Int32Array.of(1000), Float64Array.of(5), Float64Array.of(T0 - 3_600_000), d);
    return engine;
  }

  it("continues exactly where the serialised engine was, across clock domains", () => {
    const a = trained();
    const b = restoreEngine(a.serialize());
    expect(b.lastStepMs(1)).toBe(a.lastStepMs(1));
    expect(b.domainOf(1000)).toBe(1);
    expect(next(b, 50)).toEqual(next(a, 50));
  });

  it("still reads snapshots of the V8 format with base64 columns, and as JSON text (bytes or string), with -Infinity clocks stored as null", () => {
    const a = trained();
    const v8Legacy = v8.serialize(legacyTree(a.serialize()));
    const json = JSON.stringify(legacyTree(a.serialize()));
    expect(json.charAt(0)).toBe("{");
    for (const legacy of [v8Legacy, json, new TextEncoder().encode(json)]) {
      const b = restoreEngine(legacy);
      expect(b.lastStepMs(1)).toBe(a.lastStepMs(1));
      expect(next(b, 50)).toEqual(next(trained(), 50));
    }
    const fresh = JSON.stringify(legacyTree(createEngine().serialize()));
    expect(JSON.parse(fresh).last).toBeNull();
    expect(restoreEngine(fresh).lastStepMs(0)).toBe(-Infinity);
  });

  it("the legacy conversion above gives exactly what the engine writes as text (the format snapshots held)", () => {
    const e = new DetectionEngine();
    const ids = ["a", "b", "c"];
    for (let s = 0; s < 400; s++) e.step(T0 + s * 10_000, ids, Float64Array.from(ids, (_, k) => 10 + Math.sin(s / (k + 3)) + (s === 300 ? 30 : 0)));
    expect(legacyTree(packState(e.serialize("binary")))).toEqual(e.serialize());
  });

  it("writes the binary container: columns as raw sections, read back bit for bit", () => {
    const a = trained();
    const bytes = a.serialize();
    expect(isPackedState(bytes)).toBe(true);
    const state = unpackState(bytes);
    const cols = (state as { engine: { hw: { cols: Record<string, unknown> } } }).engine.hw.cols;
    expect(cols.l).toBeInstanceOf(Float64Array);
    // saved twice, the same bytes; restored and saved again, the same state
    expect(Buffer.from(a.serialize()).equals(Buffer.from(bytes))).toBe(true);
    expect(unpackState(restoreEngine(bytes).serialize())).toEqual(state);
    // an unaligned copy of the buffer reads the same
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    expect(next(restoreEngine(shifted), 50)).toEqual(next(trained(), 50));
  });
});

describe("withSettings", () => {
  const ids = Array.from({ length: 20 }, (_, k) => k + 1);
  const settings = { ...DEFAULT_SETTINGS, sensitivity: 1.5, minDurationSec: 30 };
  /** Steps `from`..`to` (exclusive); stream 7 jumps by 60 from step 90 to 95. */
  function steps(engine: EnginePort, from: number, to: number): { score: number[]; events: unknown[] }[] {
    if (from === 0) for (const id of ids) engine.addStream(id, "gauge");
    const out: { score: number[]; events: unknown[] }[] = [];
    for (let s = from; s < to; s++) {
      const t = T0 + s * 10_000;
      const values = Float64Array.from(ids, (id) => 10 + Math.sin(s / 3 + id) + (id === 7 && s >= 90 && s < 95 ? 60 : 0));
      const r = engine.step(t, Int32Array.from(ids), values, new Float64Array(ids.length).fill(t));
      out.push({ score: Array.from(r.scores.score.subarray(0, r.scores.n)), events: r.events });
    }
    return out;
  }

  it("takes another engine's models on replaceState and keeps its settings (snapshot rollback)", () => {
    const source = createEngine();
    steps(source, 0, 70);
    const state = source.serialize();
    const replaced = withSettings(createEngine());
    const perStream = new Map(ids.map((id) => [id, settings]));
    replaced.setSettings(settings, perStream);
    steps(replaced, 0, 20);
    replaced.replaceState(restoreEngine(state));
    const fresh = withSettings(restoreEngine(state));
    fresh.setSettings(settings, perStream);
    const a = steps(replaced, 70, 110);
    expect(a.some((s) => s.events.length)).toBe(true);
    expect(a).toEqual(steps(fresh, 70, 110));
  });

  it("gates events (a bare engine does not) and leaves scores alone", () => {
    const gated = withSettings(createEngine());
    gated.setSettings({ ...DEFAULT_SETTINGS, enabled: false }, new Map());
    const bare = steps(createEngine(), 0, 110);
    const out = steps(gated, 0, 110);
    expect(bare.some((s) => s.events.length)).toBe(true);
    expect(out.every((s) => !s.events.length)).toBe(true);
    expect(out.map((s) => s.score)).toEqual(bare.map((s) => s.score));
    expect(gated.suppressed.disabled).toBeGreaterThan(0);
  });

  it("refuses an engine it did not make", () => {
    expect(() => withSettings({} as EnginePort)).toThrow(/not an engine made by createEngine/);
  });
});

describe("EngineAdapter.historyDomain", () => {
  const STEP = 10_000;
  const NOW = T0 + 86_400_000;

  /** A history domain for a new stream `id` whose samples run from `fromMs` to `toMs` (its clock ends there). */
  function backfill(engine: EnginePort, id: number, fromMs: number, toMs: number, spikeAtMs = Number.NaN): { domain: number; spikeScore: number } {
    const domain = engine.historyDomain(fromMs);
    engine.addStream(id, "gauge", domain);
    let spikeScore = Number.NaN;
    for (let t = fromMs; t <= toMs; t += STEP) {
      const v = t === spikeAtMs ? 40 : 10 + Math.sin(t / 60_000);
      const r = engine.step(t, Int32Array.of(id), Float64Array.of(v), Float64Array.of(t), domain);
      if (t === spikeAtMs) spikeScore = r.scores.score[0]!;
    }
    return { domain, spikeScore };
  }

  it("a new stream sent with a backlog replays it in a history domain also after 20 imports whose streams stayed live", () => {
    const engine = createEngine();
    engine.addStream(1, "gauge");
    engine.step(NOW, Int32Array.of(1), Float64Array.of(1), Float64Array.of(NOW));
    // each import's stream then follows live data: its domain's clock is at the live one's
    for (let k = 0; k < 20; k++) expect(backfill(engine, 100 + k, NOW - 3_600_000, NOW).domain).toBe(k + 1);
    const live = backfill(engine, 500, NOW - 2 * 3_600_000, NOW + 6 * STEP, NOW + 6 * STEP);
    expect(live.domain).toBe(21);
    expect(live.spikeScore).toBeGreaterThan(95);
  });

  it("a domain that caught up with the live clock hands its streams to it, learnt, and is reused: 40 backlogs take one domain", () => {
    const engine = createEngine();
    engine.addStream(1, "gauge");
    engine.step(NOW, Int32Array.of(1), Float64Array.of(1), Float64Array.of(NOW));
    for (let k = 0; k < 40; k++) {
      expect(backfill(engine, 100 + k, NOW - 3_600_000, NOW).domain).toBe(1);
      // still behind the live clock's freshness: nothing moves
      expect(engine.mergeCaughtUp?.(NOW + 1)).toEqual({ ids: [], domains: [] });
      expect(engine.mergeCaughtUp?.(NOW - 300_000)).toEqual({ ids: [100 + k], domains: [1] });
      expect(engine.domainOf(100 + k)).toBe(0);
      expect(engine.lastStepMs(1)).toBe(-Infinity);
    }
    // the moved streams go on from what they learnt: a normal value is unremarkable, a spike is not
    const ids = Int32Array.from({ length: 41 }, (_, k) => (k === 40 ? 1 : 100 + k));
    const t = NOW + STEP;
    const normal = engine.step(t, ids, Float64Array.from(ids, (id) => (id === 1 ? 1 : 10 + Math.sin(t / 60_000))), new Float64Array(41).fill(t));
    expect(Math.max(...normal.scores.score.subarray(0, 40))).toBeLessThan(60);
    const t2 = t + STEP;
    const spike = engine.step(t2, ids, Float64Array.from(ids, (id) => (id === 107 ? 40 : id === 1 ? 1 : 10 + Math.sin(t2 / 60_000))), new Float64Array(41).fill(t2));
    expect(spike.scores.score[7]).toBeGreaterThan(95);
  });

  it("a stream in an event stays in its domain until the event ends", () => {
    const engine = createEngine();
    engine.addStream(1, "gauge");
    engine.step(NOW, Int32Array.of(1), Float64Array.of(1), Float64Array.of(NOW));
    backfill(engine, 100, NOW - 3_600_000, NOW, NOW);
    expect(engine.mergeCaughtUp?.(NOW - 300_000)).toEqual({ ids: [], domains: [] });
    expect(engine.domainOf(100)).toBe(1);
  });

  it("at the cap, history joins the history domain with the oldest clock, never the live clock", () => {
    const engine = createEngine();
    // clocks NOW, NOW - 1 h, NOW - 2 h, … until a new domain is refused (the cap)
    let k = 0;
    while (engine.historyDomain(NOW - (k + 1) * 3_600_000 - 30 * STEP) === k + 1) {
      backfill(engine, 100 + k, NOW - (k + 1) * 3_600_000 - 30 * STEP, NOW - k * 3_600_000);
      k++;
    }
    expect(k).toBeGreaterThanOrEqual(30);
    // every clock is past the new stream's first sample: the oldest is the last domain made
    const d = engine.historyDomain(NOW - (k + 5) * 3_600_000);
    expect(d).toBe(k);
  });
});
