import { describe, expect, it } from "vitest";
import { DetectionEngine } from "./engine";
import type { EngineOptionsInput } from "./options";
import { Rng } from "./rng";
import { gauss } from "./test-noise";

const T0 = 1_700_000_000_000;

/**
 * One stream of N(50, 1) for 2,000 minutes, then `after(k)` added at minute 2,000 + k: the step
 * (from minute 2,000) at which the first event opened, or −1. Without the quiet-record rule
 * (`recordOpenQuiet`, record-open.test.ts), which opens a first new extreme after calm at once.
 */
function openedAt(after: (k: number) => number, options: EngineOptionsInput = {}): number {
  const e = new DetectionEngine({ recordOpenQuiet: 0, ...options });
  e.addStream("s");
  const rng = new Rng(7);
  const v = new Float64Array(1);
  for (let r = 0; r < 2030; r++) {
    v[0] = 50 + gauss(rng) + (r >= 2000 ? after(r - 2000) : 0);
    const res = e.step(T0 + r * 60_000, ["s"], v);
    if (res.changes.some((c) => c.kind === "opened")) return r < 2000 ? -2 : r - 2000;
  }
  return -1;
}

describe("confirmation of a waiting excursion", () => {
  it("a level that moves and stays opens on its second point, though onset shaping lowered that point's score", () => {
    // 5σ: the first point scores ~99 (not extreme), the second ~46 after onset shaping
    expect(openedAt(() => 5)).toBe(1);
    // without the rule it waits for the third, the first anomalous one after the onset
    expect(openedAt(() => 5, { confirmEvidence: 0, confirmScore: 0 })).toBe(2);
  });

  it("a level that stays moved by less confirms by its still-elevated score (`confirmScore`)", () => {
    // +5σ then +3σ: the second point scores 56 and sits in the stream's top tenth, short of
    // `confirmEvidence`'s 3 decades; without the rule the event waits for the third point
    expect(openedAt((k) => (k === 0 ? 5 : 3))).toBe(1);
    expect(openedAt((k) => (k === 0 ? 5 : 3), { confirmScore: 0 })).toBe(3);
  });

  it("the elevated score must follow at once: a point after a quiet one confirms nothing", () => {
    // +5σ, ordinary, then +2σ from the third point on: scores 99, ~37, ~49 (the 49 follows a
    // quiet step, so it is not a level that stayed moved; a learnt nightly cron looks like this)
    expect(openedAt((k) => (k === 0 ? 5 : k === 1 ? 0 : 2))).toBe(-1);
  });

  it("a one-sample blip opens nothing: the next point is ordinary", () => {
    expect(openedAt((k) => (k === 0 ? 5 : 0))).toBe(-1);
  });

  it("a point on the other side does not confirm", () => {
    // −3.5σ after the +5σ spike: unusual on its own (point channel ~4.7 decades), not anomalous
    expect(openedAt((k) => (k === 0 ? 5 : k === 1 ? -3.5 : 0))).toBe(-1);
  });
});
