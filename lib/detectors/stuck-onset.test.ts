import { describe, expect, it } from "vitest";
import { DetectionEngine } from "./engine";
import type { EngineOptionsInput } from "./options";
import { Rng } from "./rng";
import { gauss } from "./test-noise";

const T0 = 1_700_000_000_000;
const STEP_MS = 300_000;
/** Ten days of 5-minute points, then the value freezes. */
const FREEZE = 2880;

/** A daily shape like NAB's artificial series: night at −20, day at 70, twelve exact zeros in between. */
function daily(r: number, rng: Rng): number {
  const k = r % 288;
  return k < 108 ? -20 + 1.5 * gauss(rng) : k < 216 ? 70 + 8 * gauss(rng) : k < 228 ? 0 : -20 + 1.5 * gauss(rng);
}

/** Points after the freeze at which anomalies opened. */
function openingsAfterFreeze(frozen: number, options: EngineOptionsInput = {}): number[] {
  const e = new DetectionEngine(options);
  e.addStream("s");
  const rng = new Rng(1);
  const v = new Float64Array(1);
  const opened: number[] = [];
  for (let r = 0; r < FREEZE + 200; r++) {
    v[0] = r >= FREEZE ? frozen : daily(r, rng);
    for (const c of e.step(T0 + r * STEP_MS, ["s"], v).changes) if (c.kind === "opened" && r >= FREEZE) opened.push(r - FREEZE);
  }
  return opened;
}

describe("a stuck stretch opens an anomaly at its onset (stuckOnsetPoints)", () => {
  it("the freeze outlasting three times the longest routine run opens one; without the rule the score likelihood, fresh from the jump, leaves its first points at 31", () => {
    // the daily twelve zeros make the flat-line bar 36 points; the jump to 40 at night opens at once
    const withRule = openingsAfterFreeze(40);
    expect(withRule[0]).toBeLessThan(12);
    const stuckAt = withRule.filter((k) => k >= 36 && k < 40);
    expect(stuckAt).toHaveLength(1);
    expect(openingsAfterFreeze(40, { stuckOnsetPoints: 0 }).filter((k) => k >= 36 && k < 40)).toEqual([]);
  });
});
