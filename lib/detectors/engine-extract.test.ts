import { describe, expect, it } from "vitest";
import { DetectionEngine } from "./engine";
import { Rng } from "./rng";
import { seasonalRow as row } from "./test-noise";

const T0 = 1_700_000_000_000;
const STEP = 60_000;


function trained(rows: number, opts = {}): DetectionEngine {
  const e = new DetectionEngine(opts);
  const ids = ["a", "b", "c", "d", "e", "f", "g", "h"];
  ids.forEach((id, i) => e.addStream(id, i === 3 ? "counter" : "gauge"));
  const rng = new Rng(7);
  for (let r = 0; r < rows; r++) e.step(T0 + r * STEP, ids, row(r, rng, rows - 5));
  return e;
}

describe("DetectionEngine.extract", () => {
  const ids = ["a", "b", "c", "d", "e", "f", "g", "h"];

  // guards every per-stream bank: one that extract forgot to copy starts fresh and scores differently
  it("scores the extracted streams at the next step exactly as the full engine does", () => {
    // Tier 2 off in both: the copy never has it, and per-stream scores must not depend on it
    const full = trained(3000, { tier2: { enabled: false } });
    const pick = ["f", "d", "b"]; // out of slot order, with a stream in an open event (f)
    const rng = new Rng(99);
    let anomalous = 0;
    for (let r = 3000; r < 3060; r++) {
      const part = full.extract([...pick, "nope", "f"]);
      expect([...part.streamIds]).toEqual(pick);
      const v = row(r, rng, 2995);
      if (r % 7 === 0) v[1] = v[1]! + 80; // b spikes now and then
      const t = T0 + r * STEP;
      const b = part.step(t, pick, Float64Array.from(pick.map((id) => v[ids.indexOf(id)]!)));
      const a = full.step(t, ids, v);
      for (const [k, id] of pick.entries()) {
        const i = ids.indexOf(id);
        expect(b.score[k]).toBe(a.score[i]);
        expect(b.confidence[k]).toBe(a.confidence[i]);
        expect(b.expected[k]).toBe(a.expected[i]);
        expect(b.isAnomaly[k]).toBe(a.isAnomaly[i]);
        expect(b.severity[k]).toBe(a.severity[i]);
        expect(b.type[k]).toBe(a.type[i]);
        anomalous += b.isAnomaly[k]!;
      }
    }
    expect(anomalous).toBeGreaterThan(5);
  });

  it("leaves the live engine untouched", () => {
    const full = trained(1500);
    const before = JSON.stringify(full.serialize());
    const part = full.extract(["a", "h"]);
    part.step(T0 + 1500 * STEP, ["a", "h"], Float64Array.from([1e6, -1e6]));
    part.step(T0 + 1501 * STEP, ["a", "h"], Float64Array.from([1e6, -1e6]));
    expect(JSON.stringify(full.serialize())).toBe(before);
    expect(full.extract([]).streamIds.length).toBe(0);
  });
});
