import { describe, expect, it } from "vitest";
import { formatNumberInput, parseNumberInput } from "./number-input";

const sens = { label: "Sensitivity", min: 0.1, max: 5 };

describe("parseNumberInput", () => {
  it("keeps what was typed: -3 is -3 (and refused in words), .5 is 0.5", () => {
    expect(parseNumberInput("-3", sens)).toEqual({ ok: false, error: "Sensitivity must be between 0.1 and 5; -3 is too low." });
    expect(parseNumberInput("-3", { label: "Offset" })).toEqual({ ok: true, value: -3 });
    expect(parseNumberInput(".5", sens)).toEqual({ ok: true, value: 0.5 });
    expect(parseNumberInput("5.", sens)).toEqual({ ok: true, value: 5 });
    expect(parseNumberInput(" 2.5 ", sens)).toEqual({ ok: true, value: 2.5 });
    expect(parseNumberInput("1e0", sens)).toEqual({ ok: true, value: 1 });
    expect(parseNumberInput("\u22122", { label: "x" })).toEqual({ ok: true, value: -2 });
  });
  it("a cleared field is not 0", () => {
    expect(parseNumberInput("", sens)).toEqual({ ok: false, error: "Sensitivity is required." });
    expect(parseNumberInput("  ", { ...sens, optional: true })).toEqual({ ok: true, value: null });
  });
  it("explains every refusal in words", () => {
    expect(parseNumberInput("abc", sens)).toEqual({ ok: false, error: 'Sensitivity: "abc" is not a number.' });
    expect(parseNumberInput("-", sens)).toEqual({ ok: false, error: 'Sensitivity: "-" is not a number.' });
    expect(parseNumberInput("1.2.3", sens).ok).toBe(false);
    expect(parseNumberInput("0x10", sens).ok).toBe(false);
    expect(parseNumberInput("Infinity", sens).ok).toBe(false);
    expect(parseNumberInput("1e999", sens)).toEqual({ ok: false, error: 'Sensitivity: "1e999" is too large.' });
    expect(parseNumberInput("6", sens)).toEqual({ ok: false, error: "Sensitivity must be between 0.1 and 5; 6 is too high." });
    expect(parseNumberInput("2.5", { label: "Days", min: 1, integer: true })).toEqual({ ok: false, error: "Days must be a whole number; 2.5 is not." });
    expect(parseNumberInput("0", { label: "Days", min: 1 })).toEqual({ ok: false, error: "Days must be at least 1; 0 is too low." });
  });
  it("never throws and never returns a non-finite value (fuzz)", () => {
    const chars = "0123456789.-+eE x,\u2212";
    let seed = 1;
    for (let i = 0; i < 5000; i++) {
      let s = "";
      const n = (seed = (seed * 48271) % 2147483647) % 8;
      for (let k = 0; k < n; k++) s += chars[(seed = (seed * 48271) % 2147483647) % chars.length];
      const r = parseNumberInput(s, { label: "x" });
      if (r.ok && r.value !== null) expect(Number.isFinite(r.value)).toBe(true);
      if (r.ok && r.value !== null) expect(r.value).toBe(Number(s.trim().replace(/\u2212/g, "-")));
    }
  });
  it("formats stored values", () => {
    expect(formatNumberInput(0.5)).toBe("0.5");
    expect(formatNumberInput(null)).toBe("");
  });
});
