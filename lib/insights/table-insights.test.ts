import { describe, expect, it } from "vitest";
import { scoreTableWithInsights } from "./table-insights";

/** Two coupled streams, 5-minute steps, 4 days, a level shift on `db` then `api` on day 4. */
function table(rows: number) {
  const t0 = Date.UTC(2024, 0, 1);
  const ts = Float64Array.from({ length: rows }, (_, i) => t0 + i * 300_000);
  const noise = (i: number, k: number) => (((i * 7919 + k * 104729) % 101) / 101 - 0.5) * 2;
  const db = Float64Array.from({ length: rows }, (_, i) => 20 + 5 * Math.sin((2 * Math.PI * i) / 288) + noise(i, 1) + (i >= 1000 && i < 1030 ? 40 : 0));
  const api = Float64Array.from({ length: rows }, (_, i) => 100 + 10 * Math.sin((2 * Math.PI * i) / 288) + 2 * noise(i, 2) + (i >= 1003 && i < 1030 ? 60 : 0));
  return { timestampsMs: ts, columns: [{ name: "api", values: api }, { name: "db", values: db }] };
}

describe("scoreTableWithInsights", () => {
  const full = scoreTableWithInsights(table(1152));

  it("names causes only on flagged rows, the first mover first", () => {
    for (let r = 0; r < 1152; r++) expect(full.causes[r]!.length > 0).toBe(full.isAnomaly[r] === 1);
    const first = full.isAnomaly.findIndex((f, r) => f === 1 && r >= 1000);
    expect(first).toBeGreaterThanOrEqual(1000);
    expect(first).toBeLessThan(1003);
    expect(full.causes[first]![0]).toBe("db");
  });

  it("is strictly causal: a prefix of the table gives the same rows", () => {
    const part = scoreTableWithInsights(table(1010));
    for (let r = 0; r < 1010; r++) {
      expect(part.score[r]).toBe(full.score[r]);
      expect(part.causes[r]).toEqual(full.causes[r]);
      expect(part.pAnomaly[r]).toBe(full.pAnomaly[r]);
    }
  });

  it("gives probabilities in [0, 1] and counts band coverage of present gauge points", () => {
    for (const p of full.pAnomaly) expect(p >= 0 && p <= 1).toBe(true);
    let pts = 0;
    let inside = 0;
    for (let r = 300; r < 1152; r++) {
      pts += full.bandPoints[r]!;
      inside += full.bandInside[r]!;
    }
    expect(pts).toBe(2 * 852);
    expect(inside / pts).toBeGreaterThan(0.8);
  });
});
