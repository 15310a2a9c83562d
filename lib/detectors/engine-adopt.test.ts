import { describe, expect, it } from "vitest";
import { DetectionEngine } from "./engine";
import { Rng } from "./rng";
import { seasonalRow as row } from "./test-noise";

const T0 = 1_700_000_000_000;
const STEP = 60_000;
const IDS = ["a", "b", "c", "d", "e", "f", "g", "h"];
const OFF = { tier2: { enabled: false } };

/** `rows` steps of the 8 streams (f in an open event at the end), and a live engine at the same clock holding stream z. */
function setup(rows: number, shiftAt = rows - 5) {
  const src = new DetectionEngine(OFF);
  IDS.forEach((id, i) => src.addStream(id, i === 3 ? "counter" : "gauge"));
  const dst = new DetectionEngine(OFF);
  dst.addStream("z");
  const rng = new Rng(7);
  for (let r = 0; r < rows; r++) {
    src.step(T0 + r * STEP, IDS, row(r, rng, shiftAt));
    dst.step(T0 + r * STEP, ["z"], Float64Array.of(5 + Math.sin(r)));
  }
  return { src, dst };
}

describe("DetectionEngine.adoptStream", () => {
  // guards every per-stream bank: one that adoptStream forgot to copy starts fresh and scores differently
  it("the adopting engine scores the moved streams as the engine they came from would have", () => {
    const { src, dst } = setup(3000);
    const ref = DetectionEngine.restore(src.serialize());
    const moved = ["g", "d", "b"]; // out of slot order, a counter among them
    for (const id of moved) dst.adoptStream(src, id);
    expect([...dst.streamIds]).toEqual(["z", ...moved]);
    expect([...src.streamIds].sort()).toEqual(["a", "c", "e", "f", "h"]);
    expect(dst.streamKind("d")).toBe("counter");
    const rng = new Rng(99);
    let anomalous = 0;
    for (let r = 3000; r < 3240; r++) {
      const v = row(r, rng, 2995);
      if (r % 61 === 0) v[1] = v[1]! + 80; // b spikes now and then
      const t = T0 + r * STEP;
      const a = ref.step(t, IDS, v);
      const b = dst.step(t, ["z", ...moved], Float64Array.from(["z", ...moved], (id) => (id === "z" ? 5 : v[IDS.indexOf(id)]!)));
      for (const [k, id] of moved.entries()) {
        const i = IDS.indexOf(id);
        if (r === 3000) {
          // exact at the first step; later, Holt-Winters' season checks run on the new slot's schedule
          // and scores drift apart (the next test moves streams into their own slots: exact throughout)
          expect(b.score[k + 1]).toBe(a.score[i]);
          expect(b.expected[k + 1]).toBe(a.expected[i]);
        }
        expect(b.isAnomaly[k + 1]).toBe(a.isAnomaly[i]);
        anomalous += b.isAnomaly[k + 1]!;
      }
    }
    expect(anomalous).toBeGreaterThan(2);
  });

  it("moved into the same slots, the streams score bit for bit as in the engine they came from, step after step", () => {
    const { src } = setup(3000, Infinity);
    const ref = DetectionEngine.restore(src.serialize());
    const dst = new DetectionEngine(OFF);
    dst.step(T0 + 2999 * STEP, [], new Float64Array(0));
    for (const id of IDS) dst.adoptStream(src, id);
    expect(src.streamIds).toEqual([]);
    const rng = new Rng(99);
    for (let r = 3000; r < 3240; r++) {
      const v = row(r, rng);
      if (r % 61 === 0) v[1] = v[1]! + 80;
      const a = ref.step(T0 + r * STEP, IDS, v);
      const b = dst.step(T0 + r * STEP, IDS, v);
      expect(Array.from(b.score)).toEqual(Array.from(a.score));
      expect(Array.from(b.expected)).toEqual(Array.from(a.expected));
      expect(b.changes).toEqual(a.changes);
    }
  });

  it("refuses a stream with an open event, and an unknown one; the source keeps them", () => {
    const { src, dst } = setup(3000);
    expect(src.openEvents().map((e) => e.streamIds)).toEqual([["f"]]);
    expect(() => dst.adoptStream(src, "f")).toThrow(/open event/);
    expect(() => dst.adoptStream(src, "nope")).toThrow(/unknown stream/);
    expect(src.hasStream("f")).toBe(true);
    expect([...dst.streamIds]).toEqual(["z"]);
  });
});
