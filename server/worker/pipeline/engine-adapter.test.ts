import { describe, expect, it } from "vitest";
import { ConfiguredEngine } from "../../services/config/configured-engine";
import { createEngine } from "./engine-adapter";
import type { EnginePort } from "./engine-port";

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
