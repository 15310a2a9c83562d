import { describe, expect, it } from "vitest";
import { DetectionEngine } from "./engine";
import type { EngineOptionsInput } from "./options";
import { Rng } from "./rng";
import { gauss } from "./test-noise";

const T0 = 1_700_000_000_000;

/** One stream of N(50, 1) for 2,010 minutes plus `extra(minute)`: the minutes at which events opened. */
function openings(extra: (minute: number) => number, options: EngineOptionsInput = {}): number[] {
  const e = new DetectionEngine(options);
  e.addStream("s");
  const rng = new Rng(7);
  const v = new Float64Array(1);
  const opened: number[] = [];
  for (let r = 0; r < 2010; r++) {
    v[0] = 50 + gauss(rng) + extra(r);
    if (e.step(T0 + r * 60_000, ["s"], v).changes.some((c) => c.kind === "opened")) opened.push(r);
  }
  return opened;
}

describe("a record after calm opens an anomaly at once (recordOpenQuiet)", () => {
  it("a one-sample new extreme on a calm stream opens on that sample; without the rule it waits for a second that never comes", () => {
    const spike = (m: number) => (m === 2000 ? 5 : 0);
    expect(openings(spike)).toEqual([2000]);
    expect(openings(spike, { recordOpenQuiet: 0 })).toEqual([]);
  });

  it("a record 100 points after an anomaly waits like any single point (the stream was not quiet)", () => {
    // the spike at 1,900 opens (calm before it); its score, halved every 288 points, is ~79 at 2,000
    expect(openings((m) => (m === 1900 ? 6 : m === 2000 ? 8 : 0))).toEqual([1900]);
    // 1,000 points later the stream is calm again: the record opens
    expect(openings((m) => (m === 1000 ? 6 : m === 2000 ? 8 : 0))).toEqual([1000, 2000]);
  });
});
