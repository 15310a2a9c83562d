import { describe, expect, it } from "vitest";
import { WorkerRestarts } from "./worker-restarts";

describe("worker restart policy", () => {
  it("backs off 1, 2, 4, 8, 16 s, then gives up on the sixth exit within two minutes", () => {
    const r = new WorkerRestarts(5, 120_000, 60_000);
    const delays = [0, 1, 2, 3, 4, 5].map((k) => r.next(1_000_000 + k * 5_000, 2_000));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, null]);
  });

  it("a run that lasted a minute resets the back-off, and old exits leave the window", () => {
    const r = new WorkerRestarts(5, 120_000, 60_000);
    expect(r.next(0, 1_000)).toBe(1_000);
    expect(r.next(10_000, 1_000)).toBe(2_000);
    expect(r.next(200_000, 90_000)).toBe(1_000);
    for (let k = 1; k <= 4; k++) expect(r.next(200_000 + k, 1_000)).not.toBeNull();
    expect(r.next(200_010, 1_000)).toBeNull();
  });
});
