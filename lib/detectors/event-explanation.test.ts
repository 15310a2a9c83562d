import { describe, expect, it } from "vitest";
import { DetectionEngine } from "./engine";
import { retypeExplanation } from "./engine-events";
import { Rng } from "./rng";
import { gauss } from "./test-noise";

const T0 = 1_700_000_000_000;

describe("a point event's explanation follows its type", () => {
  it("an excursion that goes on as a trend is explained as one, as the page heads it", () => {
    const e = new DetectionEngine();
    e.addStream("s");
    const rng = new Rng(5);
    const v = new Float64Array(1);
    let last: { type: string; explanation: string } | null = null;
    for (let r = 0; r < 2030; r++) {
      // a level that steps up 12σ at minute 2,000 and keeps climbing
      v[0] = 50 + gauss(rng) + (r >= 2000 ? 12 + (r - 2000) : 0);
      for (const c of e.step(T0 + r * 60_000, ["s"], v).changes) {
        if (c.event.streamIds[0] === "s" && (c.kind === "opened" || c.kind === "updated")) last = { type: c.event.type, explanation: c.event.explanation };
      }
    }
    expect(last?.type).toBe("trend");
    expect(last?.explanation.startsWith("trend anomaly on s: ")).toBe(true);
  });

  it("keeps the text and changes only the type", () => {
    expect(retypeExplanation("point anomaly on cpu: robust-z 5.1σ; expected 1 [0, 2], actual 9", "trend")).toBe("trend anomaly on cpu: robust-z 5.1σ; expected 1 [0, 2], actual 9");
    expect(retypeExplanation("no type here", "trend")).toBe("no type here");
  });
});
