import { describe, expect, it } from "vitest";
import { ConfiguredEngine } from "../config/configured-engine";
import v8 from "node:v8";
import { createEngine, restoreEngine } from "./engine-adapter";
import type { EnginePort } from "@/lib/detectors/engine-port";

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
  it("reserving before adding a batch changes nothing but the allocations (also through ConfiguredEngine)", () => {
    const grown = run(createEngine(), false);
    expect(run(createEngine(), true)).toEqual(grown);
    expect(run(new ConfiguredEngine(createEngine()), true)).toEqual(grown);
  });

  it("rejects an unknown clock domain", () => {
    expect(() => createEngine().reserveStreams?.(10, 3)).toThrow(/no clock domain 3/);
  });
});

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

  it("still reads snapshots written as JSON text (bytes or string), with -Infinity clocks stored as null", () => {
    const a = trained();
    const json = JSON.stringify(v8.deserialize(a.serialize()));
    expect(json.charAt(0)).toBe("{");
    for (const legacy of [json, new TextEncoder().encode(json)]) {
      const b = restoreEngine(legacy);
      expect(b.lastStepMs(1)).toBe(a.lastStepMs(1));
      expect(next(b, 50)).toEqual(next(trained(), 50));
    }
    const fresh = JSON.stringify(v8.deserialize(createEngine().serialize()));
    expect(JSON.parse(fresh).last).toBeNull();
    expect(restoreEngine(fresh).lastStepMs(0)).toBe(-Infinity);
  });
});
