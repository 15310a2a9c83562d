import { describe, expect, it } from "vitest";
import { assignIncidents, type UnassignedAnomaly } from "./incident-assign";

const T = Date.UTC(2025, 0, 1);
const MIN = 60_000;
const a = (id: string, p: Partial<UnassignedAnomaly>): UnassignedAnomaly => ({
  id,
  sourceId: 1,
  group: "web",
  startMs: T,
  endMs: null,
  ...p,
  streamId: p.streamId ?? 1,
  streamIds: p.streamIds ?? [p.streamId ?? 1],
});

describe("assignIncidents", () => {
  it("joins an open incident of the same source and group; other groups and sources start their own", () => {
    const r = assignIncidents(
      [a("x", { streamId: 2, startMs: T + MIN }), a("y", { group: "db", streamId: 3 }), a("z", { sourceId: 2, streamId: 4 })],
      [{ id: 7, sourceId: 1, group: "web", streamIds: [1], startMs: T, endMs: null }],
    );
    expect(r.incidentOf.get("x")).toBe(7);
    expect(r.incidentOf.get("y")).toBeLessThan(0);
    expect(r.incidentOf.get("z")).toBeLessThan(0);
    expect(r.incidentOf.get("y")).not.toBe(r.incidentOf.get("z"));
    expect(r.created.size).toBe(2);
  });

  it("groups a batch among itself within the slack, and splits at a longer gap", () => {
    const r = assignIncidents(
      [
        a("p", { startMs: T, endMs: T + MIN }),
        a("q", { streamId: 2, startMs: T + 4 * MIN, endMs: T + 5 * MIN }),
        a("r", { streamId: 3, startMs: T + 30 * MIN, endMs: T + 31 * MIN }),
      ],
      [],
    );
    expect(r.incidentOf.get("p")).toBe(r.incidentOf.get("q"));
    expect(r.incidentOf.get("r")).not.toBe(r.incidentOf.get("p"));
    expect([...r.created.values()].map((i) => [i.startMs, i.endMs, i.streamIds])).toEqual([
      [T, T + 5 * MIN, [1, 2]],
      [T + 30 * MIN, T + 31 * MIN, [3]],
    ]);
  });

  it("links across sources through a shared stream, and never joins an incident that ended long before", () => {
    const r = assignIncidents(
      [a("m", { sourceId: 9, group: null, streamId: 5, streamIds: [5, 1], startMs: T + MIN, endMs: T + 3 * MIN }), a("late", { startMs: T + 60 * MIN })],
      [{ id: 3, sourceId: 1, group: "web", streamIds: [1], startMs: T, endMs: T + 2 * MIN }],
    );
    expect(r.incidentOf.get("m")).toBe(3);
    expect(r.incidentOf.get("late")).toBeLessThan(0);
  });
});

describe("assignIncidents with dependency links", () => {
  const link = { streamIds: [9, 1] as [number, number], leaderId: 1, lagSec: 30, correlation: 0.8 };
  it("joins an overlapping incident of another group whose stream is linked to the anomaly's, and records the edge", () => {
    const inc = { id: 4, sourceId: 1, group: "db", streamIds: [1], startMs: T, endMs: null };
    const r = assignIncidents([a("x", { sourceId: 2, group: "api", streamId: 9, startMs: T + MIN })], [inc], undefined, [link]);
    expect(r.incidentOf.get("x")).toBe(4);
    expect(r.linkOf.get("x")).toEqual({ kind: "dependency", streamId: 9, linkedStreamId: 1, leaderId: 1, lagSec: 30, correlation: 0.8 });
    // the same anomaly without the edge, or long after the incident ended, starts its own
    expect(assignIncidents([a("x", { sourceId: 2, group: "api", streamId: 9, startMs: T + MIN })], [inc]).incidentOf.get("x")).toBeLessThan(0);
    const ended = { ...inc, endMs: T + MIN };
    expect(assignIncidents([a("x", { sourceId: 2, group: "api", streamId: 9, startMs: T + 30 * MIN })], [ended], undefined, [link]).incidentOf.get("x")).toBeLessThan(0);
  });

  it("prefers the anomaly's own group, and a linked group's later anomalies follow the link", () => {
    const db = { id: 4, sourceId: 1, group: "db", streamIds: [1], startMs: T, endMs: null };
    const api = { id: 5, sourceId: 2, group: "api", streamIds: [8], startMs: T + MIN, endMs: null };
    expect(assignIncidents([a("x", { sourceId: 2, group: "api", streamId: 9, startMs: T + 2 * MIN })], [db, api], undefined, [link]).incidentOf.get("x")).toBe(5);
    const r = assignIncidents(
      [a("x", { sourceId: 2, group: "api", streamId: 9, startMs: T + MIN }), a("y", { sourceId: 2, group: "api", streamId: 10, startMs: T + 2 * MIN })],
      [db],
      undefined,
      [link],
    );
    expect([r.incidentOf.get("x"), r.incidentOf.get("y")]).toEqual([4, 4]);
    expect(r.linkOf.has("y")).toBe(false);
  });
});
