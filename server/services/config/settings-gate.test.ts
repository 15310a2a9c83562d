import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, type EffectiveSettings } from "@/lib/config/settings";
import type { EngineEvent } from "@/lib/detectors/engine-port";
import { SettingsGate } from "./settings-gate";

const T0 = 1_700_000_000_000;
const on: EffectiveSettings = { ...DEFAULT_SETTINGS, minDurationSec: 0 };
const off: EffectiveSettings = { ...on, enabled: false };

const collective = (kind: EngineEvent["kind"], streamIds: number[]): EngineEvent => ({
  kind,
  engineId: "c-1",
  streamIds,
  startMs: T0,
  endMs: kind === "closed" ? T0 + 60_000 : null,
  peakScore: 90,
  severity: "medium",
  type: "collective",
  explanation: {},
});

describe("SettingsGate: events of several streams and disabled (archived) streams", () => {
  it("drops the disabled streams from a collective event, and the event when none is left", () => {
    const gate = new SettingsGate();
    gate.set(on, new Map([[2, off]]));
    expect(gate.filter([collective("opened", [2, 1, 3])], T0).map((e) => e.streamIds)).toEqual([[1, 3]]);
    expect(gate.filter([collective("opened", [1, 3])], T0).map((e) => e.streamIds)).toEqual([[1, 3]]);

    const allOff = new SettingsGate();
    allOff.set(on, new Map([[2, off], [4, off]]));
    expect(allOff.filter([collective("opened", [2, 4])], T0)).toEqual([]);
    expect(allOff.suppressed.disabled).toBe(1);
  });

  it("still closes an event raised before its streams were disabled", () => {
    const gate = new SettingsGate();
    gate.set(on, new Map());
    expect(gate.filter([collective("opened", [2, 4])], T0)).toHaveLength(1);
    gate.set(on, new Map([[2, off], [4, off]]));
    expect(gate.filter([collective("closed", [2, 4])], T0 + 60_000).map((e) => e.kind)).toEqual(["closed"]);
    // and only once: a second close of the same event is not raised again
    expect(gate.filter([collective("closed", [2, 4])], T0 + 60_000)).toEqual([]);
  });
});
