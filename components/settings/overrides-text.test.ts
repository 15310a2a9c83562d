import { describe, expect, it } from "vitest";
import { overridesText } from "./overrides-text";

describe("overridesText", () => {
  it("names each override in words, nested ones with dotted names and lists by length", () => {
    expect(overridesText({ sensitivity: 0.5, severity: { low: 50, high: 90 }, enabled: false, muteWindows: [{}, {}] })).toBe(
      "sensitivity 0.5 · severity.low 50 · severity.high 90 · enabled false · muteWindows: 2",
    );
  });
  it("says when nothing is overridden, and skips unset fields", () => {
    expect(overridesText({})).toBe("none (same as the current settings)");
    expect(overridesText({ sensitivity: undefined })).toBe("none (same as the current settings)");
  });
});
