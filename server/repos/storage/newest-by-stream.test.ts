import { describe, expect, it } from "vitest";
import { NewestByStream } from "./newest-by-stream";

describe("NewestByStream", () => {
  it("keeps the newest time per stream id, dense and sparse ids alike, and says NaN when unknown", () => {
    const n = new NewestByStream();
    for (const id of [1, 5_000, 70_000, 2 ** 30]) {
      expect(n.get(id)).toBeNaN();
      n.note(id, 2_000);
      n.note(id, 1_000); // older: ignored
      expect(n.get(id)).toBe(2_000);
      n.note(id, 3_000);
      expect(n.get(id)).toBe(3_000);
    }
    expect(n.get(2)).toBeNaN();
    expect(n.get(1)).toBe(3_000); // kept across growth
  });
});
