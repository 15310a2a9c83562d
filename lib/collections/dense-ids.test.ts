import { describe, expect, it } from "vitest";
import { DenseIds } from "./dense-ids";

describe("DenseIds", () => {
  it("numbers ids in order of first sight and keeps their slots, also for ids beyond the table", () => {
    const d = new DenseIds();
    expect([d.slotOf(7), d.slotOf(3), d.slotOf(7), d.slotOf(2 ** 30), d.slotOf(-1), d.slotOf(5000)]).toEqual([0, 1, 0, 2, 3, 4]);
    expect([d.slotOf(2 ** 30), d.slotOf(-1), d.slotOf(3), d.slotOf(5000)]).toEqual([2, 3, 1, 4]);
    expect(d.size).toBe(5);
  });
});
