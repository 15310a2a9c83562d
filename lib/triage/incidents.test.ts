import { describe, expect, it } from "vitest";
import { groupIncidents, type IncidentMember } from "./incidents";

const MIN = 60_000;
const NOW = 1_800_000_000_000;

function a(id: string, p: Partial<IncidentMember>): IncidentMember {
  return { id, streamId: 1, streamIds: [], sourceId: 1, group: null, startMs: NOW - 60 * MIN, endMs: null, severity: "low", peakScore: 65, status: "open", ...p };
}

describe("groupIncidents", () => {
  it("one event over nine streams of a server is one incident with one status", () => {
    const rows = Array.from({ length: 9 }, (_, i) =>
      a(`r${i}`, { streamId: 10 + i, sourceId: 3, group: "vm", startMs: NOW - 20 * MIN + i * 30_000, endMs: i === 4 ? null : NOW - 5 * MIN, severity: i === 7 ? "high" : "medium", status: i === 2 ? "acknowledged" : "open" }),
    );
    const inc = groupIncidents(rows, NOW);
    expect(inc).toHaveLength(1);
    expect(inc[0]!.members).toHaveLength(9);
    expect(inc[0]!.streamIds.sort()).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18]);
    expect(inc[0]!.severity).toBe("high");
    expect(inc[0]!.status).toBe("open");
    expect(inc[0]!.endMs).toBeNull();
    expect(inc[0]!.id).toBe("r0");
  });

  it("keeps apart events of other sources or groups, and events far apart in time", () => {
    const inc = groupIncidents(
      [
        a("x", { sourceId: 1, group: "a", startMs: NOW - 30 * MIN, endMs: NOW - 20 * MIN }),
        a("y", { sourceId: 1, group: "b", startMs: NOW - 29 * MIN, endMs: NOW - 20 * MIN, streamId: 2 }),
        a("z", { sourceId: 2, group: "a", startMs: NOW - 29 * MIN, endMs: NOW - 20 * MIN, streamId: 3 }),
        a("w", { sourceId: 1, group: "a", startMs: NOW - 10 * MIN, endMs: NOW - 9 * MIN, streamId: 4 }),
      ],
      NOW,
    );
    expect(inc.map((i) => i.members.map((m) => m.id))).toHaveLength(4);
  });

  it("joins within the slack, through a multi-stream anomaly, and through the dependency graph", () => {
    const near = groupIncidents(
      [a("x", { startMs: NOW - 30 * MIN, endMs: NOW - 20 * MIN }), a("y", { streamId: 2, startMs: NOW - 17 * MIN, endMs: NOW - 16 * MIN })],
      NOW,
    );
    expect(near).toHaveLength(1);
    const spanning = groupIncidents(
      [a("x", { sourceId: 1, streamIds: [1, 9] }), a("y", { sourceId: 2, streamId: 9 })],
      NOW,
    );
    expect(spanning).toHaveLength(1);
    const linked = groupIncidents([a("x", { sourceId: 1 }), a("y", { sourceId: 2, streamId: 7 })], NOW, {
      linked: (p, q) => (p === 1 && q === 7) || (p === 7 && q === 1),
    });
    expect(linked).toHaveLength(1);
    expect(groupIncidents([a("x", { sourceId: 1 }), a("y", { sourceId: 2, streamId: 7 })], NOW)).toHaveLength(2);
  });

  it("chains a long event: A overlaps B, B overlaps C, so A, B and C are one", () => {
    const inc = groupIncidents(
      [
        a("a", { startMs: NOW - 60 * MIN, endMs: NOW - 40 * MIN }),
        a("b", { streamId: 2, startMs: NOW - 45 * MIN, endMs: NOW - 20 * MIN }),
        a("c", { streamId: 3, startMs: NOW - 22 * MIN, endMs: NOW - 10 * MIN }),
      ],
      NOW,
    );
    expect(inc).toHaveLength(1);
    expect(inc[0]!.startMs).toBe(NOW - 60 * MIN);
    expect(inc[0]!.endMs).toBe(NOW - 10 * MIN);
    expect(inc[0]!.status).toBe("open");
  });

  it("orders by severity, then most recent activity", () => {
    const inc = groupIncidents(
      [
        a("old-high", { sourceId: 1, severity: "high", startMs: NOW - 300 * MIN, endMs: NOW - 290 * MIN }),
        a("new-med", { sourceId: 2, severity: "medium", startMs: NOW - 3 * MIN, endMs: null }),
        a("new-high", { sourceId: 3, severity: "high", startMs: NOW - 5 * MIN, endMs: null }),
        a("old-med", { sourceId: 4, severity: "medium", startMs: NOW - 100 * MIN, endMs: NOW - 90 * MIN }),
      ],
      NOW,
    );
    expect(inc.map((i) => i.id)).toEqual(["new-high", "old-high", "new-med", "old-med"]);
  });

  it("resolved only when every row is", () => {
    const inc = groupIncidents(
      [a("x", { status: "resolved", endMs: NOW - MIN }), a("y", { streamId: 2, status: "acknowledged", endMs: NOW - MIN })],
      NOW,
    );
    expect(inc[0]!.status).toBe("acknowledged");
    expect(groupIncidents([a("x", { status: "resolved", endMs: NOW - MIN })], NOW)[0]!.status).toBe("resolved");
  });

  it("matches a brute-force grouping on random inputs", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 50; trial++) {
      const rows = Array.from({ length: 30 }, (_, i) => {
        const start = NOW - Math.floor(rnd() * 600) * MIN;
        return a(`r${i}`, { streamId: i, sourceId: Math.floor(rnd() * 3), group: rnd() < 0.5 ? "g" : null, startMs: start, endMs: rnd() < 0.2 ? null : start + Math.floor(rnd() * 30) * MIN });
      });
      // Brute force: connected components of the pairwise relation.
      const comp = rows.map((_, i) => i);
      const f = (i: number): number => (comp[i] === i ? i : (comp[i] = f(comp[i]!)));
      for (let i = 0; i < rows.length; i++)
        for (let j = 0; j < rows.length; j++) {
          const p = rows[i]!;
          const q = rows[j]!;
          const overlap = p.startMs <= (q.endMs ?? NOW) + 5 * MIN && q.startMs <= (p.endMs ?? NOW) + 5 * MIN;
          if (overlap && p.sourceId === q.sourceId && p.group === q.group) comp[f(i)] = f(j);
        }
      const expected = new Set(rows.map((_, i) => f(i))).size;
      expect(groupIncidents(rows, NOW)).toHaveLength(expected);
    }
  });
});
