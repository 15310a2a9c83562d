import { describe, expect, it } from "vitest";
import { timeSlices } from "./time-slices";
import type { DecodedSeries } from "./types";

const series = (metric: string, tsMs: number[], values = tsMs.map((t) => t / 10)): DecodedSeries => ({ metric, labels: {}, kind: "gauge", tsMs, values });
const samples = (slices: DecodedSeries[][]) => slices.flat().flatMap((s) => s.tsMs.map((t, i) => `${s.metric}@${t}=${s.values[i]}`));

describe("timeSlices", () => {
  it("cuts a wide file by time across its series, not series by series", () => {
    const ts = Array.from({ length: 10 }, (_, i) => 1000 + i * 10);
    const slices = [...timeSlices([series("a", ts), series("b", ts), series("c", ts)], 6)];
    expect(slices).toHaveLength(5);
    for (const slice of slices) {
      expect(slice.map((s) => s.metric)).toEqual(["a", "b", "c"]);
      expect(slice[0]!.tsMs).toEqual(slice[1]!.tsMs);
    }
    expect(slices[0]![0]!.tsMs).toEqual([1000, 1010]);
    expect(slices[4]![2]!.tsMs).toEqual([1080, 1090]);
  });

  it("keeps every sample exactly once, values with their times", () => {
    let seed = 3;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const input = Array.from({ length: 7 }, (_, k) => series(`s${k}`, Array.from({ length: 20 + k * 13 }, () => Math.floor(rnd() * 500))));
    for (const max of [1, 5, 17, 1000]) {
      const slices = [...timeSlices(input, max)];
      expect(samples(slices).sort()).toEqual(samples([input]).sort());
      // slices follow each other in time: no slice holds a time older than the previous one's newest
      let newest = -Infinity;
      for (const slice of slices) {
        const times = slice.flatMap((s) => s.tsMs);
        expect(Math.min(...times)).toBeGreaterThan(newest);
        // at most `max` samples, unless one timestamp alone has more
        if (times.length > max) expect(new Set(times).size).toBe(1);
        newest = Math.max(...times);
      }
    }
  });

  it("never splits one timestamp over two slices, so repeats of a (stream, time) meet in one commit", () => {
    const slices = [...timeSlices([series("a", [1, 2, 2, 2, 3], [10, 20, 21, 22, 30]), series("b", [2, 2])], 2)];
    const at2 = slices.filter((sl) => sl.some((s) => s.tsMs.includes(2)));
    expect(at2).toHaveLength(1);
    // the first of a repeated (stream, time) stays first (first write wins)
    const a = at2[0]!.find((s) => s.metric === "a")!;
    expect(a.values.slice(a.tsMs.indexOf(2), a.tsMs.indexOf(2) + 3)).toEqual([20, 21, 22]);
  });

  it("puts an out-of-order series in time order, stably", () => {
    const [only] = [...timeSlices([series("a", [30, 10, 20, 10], [3, 1, 2, 1.5])], 100)];
    expect(only![0]!.tsMs).toEqual([10, 10, 20, 30]);
    expect(only![0]!.values).toEqual([1, 1.5, 2, 3]);
  });

  it("fills each slice as far as the times allow, also with times that are not whole milliseconds", () => {
    const ts = Array.from({ length: 1000 }, (_, i) => 1.5e12 + i * 0.25);
    const slices = [...timeSlices([series("a", ts), series("b", ts.filter((_, i) => i % 3 === 0))], 100)];
    expect(slices.slice(0, -1).every((sl) => sl.reduce((n, s) => n + s.tsMs.length, 0) >= 99)).toBe(true);
    expect(samples(slices)).toHaveLength(1000 + 334);
  });

  it("yields nothing for series without samples", () => {
    expect([...timeSlices([series("a", [])], 10)]).toEqual([]);
  });
});
