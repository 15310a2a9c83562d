import { describe, expect, it } from "vitest";
import { hashNoise } from "../scenarios/hash-noise";
import { DetectionEngine, type StepResult } from "./engine";
import type { EngineOptionsInput } from "./options";

/** `streams` noisy streams; the first two step up by `jump` for three minutes at t = 1000. */
function run(streams: number, jump: number, options: EngineOptionsInput = {}, prefix = "") {
  const e = new DetectionEngine({ pairEvents: true, ...options });
  const ids = Array.from({ length: streams }, (_, k) => prefix + String.fromCharCode(97 + k));
  for (const id of ids) e.addStream(id);
  const v = new Float64Array(streams);
  const collective: { t: number; id: string; kind: string; streamIds: string[]; explanation: string }[] = [];
  const steps: StepResult[] = [];
  for (let t = 0; t < 1010; t++) {
    for (let k = 0; k < streams; k++) v[k] = 10 + hashNoise(t * 7 + k * 100003) + (t >= 1000 && t < 1003 && k < 2 ? jump : 0);
    const r = e.step(t * 60_000, ids, v);
    if (t >= 1000) steps.push({ ...r, score: Float64Array.from(r.score) });
    for (const c of r.changes) if (c.event.id.startsWith("__multivariate__:")) collective.push({ t, id: c.event.id, kind: c.kind, streamIds: [...c.event.streamIds], explanation: c.event.explanation });
  }
  return { collective, steps };
}

describe("pair score: two streams anomalous on one step", () => {
  it("opens one collective anomaly naming both, from the second step, with its own explanation", () => {
    const { collective, steps } = run(5, 1.5);
    const opened = collective.find((c) => c.kind === "opened");
    expect(opened).toMatchObject({ t: 1001, streamIds: ["a", "b"] });
    expect(opened!.explanation).toMatch(/^a and b are anomalous at the same time, rarer together than either alone \(joint score \d+\)$/);
    // κ·(second largest score) − 10·log10(5·4/2) points, within [0, 100]
    for (const s of steps) {
      const [, second] = [...s.score].sort((x, y) => y - x);
      expect(s.pairScore).toBeCloseTo(Math.min(100, Math.max(0, 1.4 * second! - 10)), 9);
    }
    // the multivariate models alone would not have raised it
    expect(Math.max(...steps.map((s) => s.multivariateScore))).toBeLessThan(60);
  });

  it("has an id of its own in every engine: two engines opening one at the same time do not share a stored anomaly", () => {
    const one = run(5, 1.5).collective.find((c) => c.kind === "opened")!;
    const other = run(5, 1.5, {}, "x").collective.find((c) => c.kind === "opened")!;
    expect(one.t).toBe(other.t);
    expect(one.id).toBe(`__multivariate__:a@${1000 * 60_000}`);
    expect(other.id).not.toBe(one.id);
  });

  it("is off by default, with tablePairExponent 0 and below three streams", () => {
    const byDefault = run(5, 1.5, { pairEvents: false });
    expect(byDefault.collective).toEqual([]);
    expect(byDefault.steps.every((s) => s.pairScore === 0)).toBe(true);
    const off = run(5, 1.5, { tablePairExponent: 0 });
    expect(off.collective).toEqual([]);
    expect(off.steps.every((s) => s.pairScore === 0)).toBe(true);
    const two = run(2, 1.5);
    expect(two.steps.every((s) => s.pairScore === 0)).toBe(true);
  });
});
