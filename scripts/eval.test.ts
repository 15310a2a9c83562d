import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
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
    if (out.detector.available) {
      for (const k of ["leadTimeMinAvg", "hitRate", "falsePredictionsPerDay", "intervalCoverage95"]) expect(out.prediction).toHaveProperty(k);
      for (const k of ["hitRate150", "topCauseLabelled", "originRankedFirst"]) expect(out.explanation).toHaveProperty(k);
    }
  });
});

describe("scripts/eval.ts --corpus", () => {
  const run = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "scripts/eval.ts", ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
  const iso = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 300_000).toISOString().replace("T", " ").replace(".000Z", "");

  it("scores a NAB-layout corpus: three profiles swept and at the threshold, event figures, prediction", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "omen-nab-"));
    mkdirSync(path.join(dir, "data", "x"), { recursive: true });
    mkdirSync(path.join(dir, "labels"));
    mkdirSync(path.join(dir, "config"));
    const lines = ["timestamp,value"];
    for (let i = 0; i < 2000; i++) lines.push(`${iso(i)},${(10 + Math.sin(i / 20) + ((i * 7919) % 13) / 13 + (i >= 1500 && i < 1510 ? 30 : 0)).toFixed(3)}`);
    lines.splice(900, 0, lines[899]!); // a repeated row, as real exports have
    writeFileSync(path.join(dir, "data", "x", "a.csv"), lines.join("\n") + "\n");
    writeFileSync(path.join(dir, "labels", "combined_windows.json"), JSON.stringify({ "x/a.csv": [[`${iso(1450)}.000000`, `${iso(1550)}.000000`]] }));
    writeFileSync(path.join(dir, "config", "profiles.json"), JSON.stringify({ standard: { CostMatrix: { tpWeight: 1, fnWeight: 1, fpWeight: 0.11, tnWeight: 1 } } }));
    const r = run(["--corpus", dir, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ layout: "nab", threshold: 60, files: 1, windows: 1, input: { lateRows: 0, duplicateRows: 1 } });
    expect(out.nab.standard.swept.score).toBeGreaterThanOrEqual(out.nab.standard.fixed.score);
    expect(out.events.fixed.windowsDetected).toBe(1);
    for (const k of ["precision", "recall", "f1", "falseAlarmsPerDay", "detectionDelayMinMean"]) expect(typeof out.events.fixed[k]).toBe("number");
    for (const k of ["hitRate", "falsePredictionsPerDay", "intervalCoverage95"]) expect(out.prediction).toHaveProperty(k);
    const text = run(["--corpus", dir]);
    expect(text.stdout).toMatch(/standard\s+\S+\s+\S+\s+\S+/);
  });

  it("scores a wide-layout corpus with a manifest, including the explanation figures", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "omen-wide-"));
    const lines = ["timestamp,m01,m02,m03,is_anomaly"];
    for (let i = 0; i < 1500; i++) {
      const bad = i >= 1300 && i < 1320;
      const n = (k: number) => (((i * 7919 + k * 104729) % 97) / 97) * 0.05;
      lines.push(`${iso(i)},${(0.5 + 0.1 * Math.sin(i / 40) + n(1) + (bad ? 0.4 : 0)).toFixed(4)},${(0.3 + n(2)).toFixed(4)},${(0.6 + n(3) + (bad ? 0.3 : 0)).toFixed(4)},${bad ? 1 : 0}`);
    }
    writeFileSync(path.join(dir, "s1.csv.gz"), gzipSync(lines.join("\n") + "\n"));
    writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ files: [{ file: "s1.csv.gz", firstTestRow: 1000, events: [[1300, 1319]], interpretation: [{ rows: [1300, 1319], streams: ["m01", "m03"] }] }] }));
    const r = run(["--corpus", dir, "--json", "--threshold", "60"]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ layout: "wide", files: 1 });
    expect(out.perFile[0].testRows).toBe(500);
    expect(out.mean.swept.composite.f1).toBeGreaterThan(0);
    // false alarm runs: counted per file and per machine-day of the test rows (499 steps)
    expect(out.falseAlarms.runs).toBe(out.perFile[0].falseAlarmRuns);
    expect(out.falseAlarms.machineDays).toBeCloseTo((499 * 300_000) / 86_400_000, 9);
    expect(out.explanation.events).toBe(1);
    if (out.explanation.eventsExplained === 1) expect(out.explanation.topCauseLabelled).toBe(1);
    for (const k of ["hitRate100", "hitRate150", "topCauseLabelled"]) expect(out.explanation).toHaveProperty(k);
  });

  it("--config scores the corpus with those engine options, and refuses an invalid file", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "omen-cfg-"));
    mkdirSync(path.join(dir, "data", "x"), { recursive: true });
    mkdirSync(path.join(dir, "labels"));
    mkdirSync(path.join(dir, "config"));
    const lines = ["timestamp,value"];
    for (let i = 0; i < 1500; i++) lines.push(`${iso(i)},${(10 + Math.sin(i / 20) + ((i * 7919) % 13) / 13 + (i >= 1200 && i < 1210 ? 30 : 0)).toFixed(3)}`);
    writeFileSync(path.join(dir, "data", "x", "a.csv"), lines.join("\n") + "\n");
    writeFileSync(path.join(dir, "labels", "combined_windows.json"), JSON.stringify({ "x/a.csv": [[`${iso(1150)}.000000`, `${iso(1250)}.000000`]] }));
    writeFileSync(path.join(dir, "config", "profiles.json"), JSON.stringify({ standard: { CostMatrix: { tpWeight: 1, fnWeight: 1, fpWeight: 0.11, tnWeight: 1 } } }));
    // 1,000 decades of evidence to score 100, no record rule and no multivariate score: nothing reaches 60
    const cfg = path.join(dir, "c.json");
    writeFileSync(cfg, JSON.stringify({ likelihoodScale: 1000, recordRatio: 0, tier2: { weight: 0 } }));
    const base = JSON.parse(run(["--corpus", dir, "--json"]).stdout);
    const r = run(["--corpus", dir, "--json", "--config", cfg]);
    expect(r.status, r.stderr).toBe(0);
    const quiet = JSON.parse(r.stdout);
    expect(base.events.fixed.windowsDetected).toBe(1);
    expect(quiet.events.fixed.windowsDetected).toBe(0);
    writeFileSync(cfg, JSON.stringify({ onsetCooldown: -1 }));
    const bad = run(["--corpus", dir, "--config", cfg]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/invalid config .*onsetCooldown/);
  });

  it("refuses a directory that is no labelled corpus, saying what it expects", () => {
    const r = run(["--corpus", mkdtempSync(path.join(tmpdir(), "omen-empty-"))]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not a labelled corpus: expected labels\/combined_windows.json/);
  });
});
