import { describe, expect, it } from "vitest";
import { SLOW_INCIDENT_KINDS, slowIncidentScenario } from "./slow-incidents";

describe("slow incidents", () => {
  it.each(SLOW_INCIDENT_KINDS)("%s: one labelled drift of hours ending at its harm, the twin without it", (kind) => {
    const s = slowIncidentScenario(kind, { seed: 7, inject: true });
    const clean = slowIncidentScenario(kind, { seed: 7, inject: false });
    expect(s.anomalies).toHaveLength(1);
    const w = s.anomalies[0]!;
    expect(w.impactMs).toBe(w.endMs);
    const hours = (w.impactMs! - w.startMs) / 3_600_000;
    expect(hours).toBeGreaterThan(1.5);
    expect(hours).toBeLessThan(11);
    expect(w.startMs).toBeGreaterThanOrEqual(s.evalStartMs);
    const stream = s.columns.find((c) => c.name === w.streams[0])!;
    const twin = clean.columns.find((c) => c.name === w.streams[0])!;
    const i0 = s.timestampsMs.indexOf(w.startMs);
    const iI = s.timestampsMs.indexOf(w.impactMs!);
    // untouched before the drift; at the harm the drift has moved the stream away from its twin
    for (let i = 0; i < i0; i++) expect(stream.values[i]).toBe(twin.values[i]);
    expect(Math.abs(stream.values[iI]! - twin.values[iI]!)).toBeGreaterThan(0);
    // the companions never change
    for (const name of ["cpu_percent", "request_rate"]) expect(s.columns.find((c) => c.name === name)!.values).toEqual(clean.columns.find((c) => c.name === name)!.values);
  });
});
