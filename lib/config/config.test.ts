import { describe, expect, it } from "vitest";
import { engineCutoffs, gateEvent, isMuted } from "./gate";
import { compileSelector, OmenYamlError, parseOmenYaml, ruleSettings, selectorMatches } from "./omen-yaml";
import { DEFAULT_SETTINGS, diffSettings, resolveSettings, ZDetectorSettings } from "./settings";

function yamlErrors(text: string) {
  try {
    parseOmenYaml(text);
  } catch (e) {
    if (e instanceof OmenYamlError) return e.errors;
    throw e;
  }
  throw new Error("expected an error");
}

describe("omen.yaml", () => {
  it("parses a full file with durations and selectors", () => {
    const f = parseOmenYaml(
      [
        "version: 1",
        "global:",
        "  modelUpdateInterval: 5m",
        "  retention: 30d",
        "  minTrainingSamples: 120",
        "  bandSigmas: 4.5",
        "  severities: { low: 50, medium: 75, high: 90 }",
        "rules:",
        "  - match: 'http_latency_ms{service=\"checkout\"}'",
        "    sensitivity: 0.8",
        "    minDuration: 2m",
        "    trainingWindow: 14d",
        "    seasonality: daily",
        "    detectors: { gaps: false }",
        "    muteWindows:",
        '      - { kind: daily, start: "02:00", end: "02:30", note: backup }',
        "  - group: db",
        "    enabled: false",
      ].join("\n"),
    );
    expect(f.global?.modelUpdateInterval).toBe(300_000);
    expect(f.global?.retention).toBe(30 * 86_400_000);
    expect(ruleSettings(f.global!)).toMatchObject({ minTrainingSamples: 120, bandSigmas: 4.5 });
    expect(resolveSettings([ruleSettings(f.global!)]).bandSigmas).toBe(4.5);
    expect(DEFAULT_SETTINGS.bandSigmas).toBe(3);
    expect(yamlErrors("global:\n  bandSigmas: 0.5")[0]).toMatchObject({ line: 2, path: "global.bandSigmas" });
    expect(f.rules).toHaveLength(2);
    const s = ruleSettings(f.rules[0]!);
    expect(s).toEqual({
      sensitivity: 0.8,
      minDurationSec: 120,
      trainingWindowDays: 14,
      seasonality: "daily",
      detectors: { gaps: false },
      muteWindows: [{ kind: "daily", start: "02:00", end: "02:30", note: "backup" }],
    });
    expect(ZDetectorSettings.parse(s)).toEqual(s);
  });

  it("reports the exact line and column of a bad value", () => {
    const errs = yamlErrors(["rules:", "  - match: cpu_percent", "    sensitivity: 12", "    seasonality: yearly"].join("\n"));
    expect(errs).toHaveLength(2);
    expect(errs[0]).toMatchObject({ line: 3, col: 18, path: "rules[0].sensitivity" });
    expect(errs[1]).toMatchObject({ line: 4, col: 18, path: "rules[0].seasonality" });
  });

  it("points at an unknown key and at a rule without selector", () => {
    const errs = yamlErrors(["global:", "  sensitivty: 2", "rules:", "  - sensitivity: 1"].join("\n"));
    const unknown = errs.find((e) => /sensitivty/.test(e.message));
    expect(unknown).toMatchObject({ line: 2, col: 3 });
    const sel = errs.find((e) => /exactly one/.test(e.message));
    expect(sel).toMatchObject({ line: 4, col: 5, path: "rules[0]" });
  });

  it("reports YAML syntax errors with their line", () => {
    const errs = yamlErrors("rules:\n  - match: a\n   bad: [1, 2\n");
    expect(errs[0]!.line).toBeGreaterThanOrEqual(3);
    const err = (() => {
      try {
        parseOmenYaml("rules: [", "conf/omen.yaml");
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toMatch(/^conf\/omen\.yaml:\d+:\d+: /);
  });

  it("matches selectors with globs and labels", () => {
    const s = compileSelector('http_*_ms{service="api"}');
    expect(selectorMatches(s, "http_latency_ms", { service: "api", pod: "a" })).toBe(true);
    expect(selectorMatches(s, "http_latency_ms", { service: "web" })).toBe(false);
    expect(selectorMatches(compileSelector("cpu"), "cpu_percent", {})).toBe(false);
  });
});

describe("settings", () => {
  it("overlays scopes in order and accumulates mute windows", () => {
    const eff = resolveSettings([
      { sensitivity: 2, muteWindows: [{ kind: "daily", start: "01:00", end: "02:00" }] },
      null,
      { sensitivity: 0.5, detectors: { gaps: false }, muteWindows: [{ kind: "daily", start: "03:00", end: "04:00" }] },
    ]);
    expect(eff.sensitivity).toBe(0.5);
    expect(eff.detectors).toEqual({ univariate: true, multivariate: true, gaps: false });
    expect(eff.muteWindows).toHaveLength(2);
    expect(DEFAULT_SETTINGS.muteWindows).toHaveLength(0);
  });

  it("rejects inconsistent cut-offs", () => {
    expect(ZDetectorSettings.safeParse({ severity: { low: 90, medium: 80, high: 95 } }).success).toBe(false);
  });

  it("describes differences", () => {
    expect(diffSettings({ sensitivity: 1 }, { sensitivity: 2, minDurationSec: 60 })).toEqual([
      "minDurationSec: (inherit) → 60",
      "sensitivity: 1 → 2",
    ]);
  });
});

describe("gate", () => {
  const t = Date.UTC(2026, 10, 23, 2, 15); // a Monday, 02:15 UTC
  it("mutes daily windows, including ones that wrap midnight, and once windows", () => {
    expect(isMuted(t, [{ kind: "daily", start: "02:00", end: "02:30" }])).toBe(true);
    expect(isMuted(t, [{ kind: "daily", start: "02:00", end: "02:30", days: ["tue"] }])).toBe(false);
    expect(isMuted(t, [{ kind: "daily", start: "23:00", end: "03:00", days: ["sun"] }])).toBe(true);
    expect(isMuted(t, [{ kind: "once", from: "2026-11-23T02:00:00Z", to: "2026-11-23T03:00:00Z" }])).toBe(true);
    expect(isMuted(t, [{ kind: "daily", start: "03:00", end: "04:00" }])).toBe(false);
  });

  it("re-grades severity, holds short open events and drops muted or disabled ones", () => {
    const s = resolveSettings([{ severity: { low: 70, medium: 85, high: 97 }, minDurationSec: 60 }]);
    const e = { startMs: t, endMs: null, peakScore: 90, type: "point" };
    expect(gateEvent(e, s, t + 30_000)).toEqual({ action: "hold" });
    expect(gateEvent(e, s, t + 60_000)).toEqual({ action: "raise", severity: "medium" });
    expect(gateEvent({ ...e, endMs: t + 20_000 }, s, t + 60_000).action).toBe("drop");
    expect(gateEvent({ ...e, peakScore: 65 }, s, t + 120_000)).toEqual({ action: "drop", reason: "below cut-off" });
    expect(gateEvent(e, { ...s, enabled: false }, t + 120_000).action).toBe("drop");
    expect(gateEvent({ ...e, type: "gap" }, { ...s, detectors: { ...s.detectors, gaps: false } }, t + 120_000).action).toBe("drop");
    expect(gateEvent(e, { ...s, muteWindows: [{ kind: "daily", start: "02:00", end: "03:00" }] }, t + 120_000).action).toBe("drop");
  });

  it("lowers engine cut-offs to the most sensitive stream", () => {
    const a = resolveSettings([{ severity: { low: 40, medium: 85, high: 97 } }]);
    expect(engineCutoffs([a, DEFAULT_SETTINGS], DEFAULT_SETTINGS.severity)).toEqual({ low: 40, medium: 80, high: 95 });
  });
});
