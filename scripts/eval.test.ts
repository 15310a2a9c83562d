import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");

describe("scripts/eval.ts --json", () => {
  it("prints one parseable JSON object with the required keys", () => {
    const stdout = execFileSync(process.execPath, ["--import", "tsx", "scripts/eval.ts", "--json", "--quick"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0] ?? "");
    for (const key of ["precision", "recall", "f1", "fpr", "detectionDelaySec", "falseAlarmsPerDay"]) {
      expect(out.overall, key).toHaveProperty(key);
      expect(out.baseline, key).toHaveProperty(key);
    }
    expect(out).toHaveProperty("adaptationSec");
    expect(typeof out.baseline.f1).toBe("number");
    expect(out.scenarios.map((s: { name: string }) => s.name)).toEqual(["web-cpu-spikes", "auth-failure-bursts", "deploy-regime-change"]);
    const regime = out.scenarios.find((s: { name: string }) => s.name === "deploy-regime-change");
    expect(regime.baseline).toHaveProperty("adaptationSec");
    expect(regime.baseline.windowDelaysSec).toHaveLength(regime.windows.length);
    if (out.detector.available) {
      expect(typeof out.overall.f1).toBe("number");
      expect(out.overall.errors).toEqual([]);
      expect(typeof out.adaptationSec).toBe("number");
    }
    expect(out.definitions.overall).toMatch(/micro/);
  });
});
