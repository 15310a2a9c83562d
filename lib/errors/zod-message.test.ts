import { describe, expect, it } from "vitest";
import { z } from "zod";
import { zodMessage } from "./zod-message";

describe("zodMessage", () => {
  it("says what is wrong in words, naming the field", () => {
    const r = z.object({ settings: z.object({ sensitivity: z.number().min(0.1), minDurationSec: z.number().int() }) }).safeParse({ settings: { sensitivity: -3, minDurationSec: 1.5 } });
    const msg = zodMessage(r.error!);
    expect(msg).toMatch(/^Sensitivity: too small: expected number to be >=0\.1\. Minimum duration: expected int, received number\.$/);
    expect(msg).not.toContain("{");
  });
  it("bounds the length", () => {
    const r = z.array(z.number()).safeParse(Array.from({ length: 20 }, () => "x"));
    expect(zodMessage(r.error!)).toMatch(/^Item 0: expected number, received string\..*\(15 more problems\)$/);
  });
});
