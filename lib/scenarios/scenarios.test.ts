import { describe, expect, it } from "vitest";
import { generateScenario, generateScenarios, SCENARIO_NAMES } from "./index";
import { ScenarioBuilder } from "./builder";
import { createRng } from "./rng";
import { labelsToCsv, scenarioToCsv } from "./csv";
import type { Scenario } from "./types";

const DAY = 86_400_000;

function differs(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) !== Number.isNaN(b);
  return Math.abs(a - b) > 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Per-row "was changed by an injection" — counters compare increments, not cumulative values. */
function changedRows(with_: Scenario, without: Scenario): Uint8Array {
  const n = with_.timestampsMs.length;
  const changed = new Uint8Array(n);
  with_.columns.forEach((col, c) => {
    const other = without.columns[c]?.values;
    if (!other) throw new Error("column mismatch");
    for (let i = 0; i < n; i++) {
      let a = col.values[i] ?? Number.NaN;
      let b = other[i] ?? Number.NaN;
      if (col.kind === "counter") {
        // increments; at a reset the increment is the value itself
        const inc = (v: number, prev: number): number => (v < prev ? v : v - prev);
        a = i > 0 ? inc(a, col.values[i - 1] ?? Number.NaN) : 0;
        b = i > 0 ? inc(b, other[i - 1] ?? Number.NaN) : 0;
        if (Number.isNaN(a) && Number.isNaN(b)) continue;
      }
      if (differs(a, b)) changed[i] = 1;
    }
  });
  return changed;
}

describe("scenario generator", () => {
  it("has 10–14 scenarios with several multi-stream ones", () => {
    const all = generateScenarios();
    expect(all.length).toBeGreaterThanOrEqual(10);
    expect(all.length).toBeLessThanOrEqual(14);
    expect(all.filter((s) => s.columns.length > 1).length).toBeGreaterThanOrEqual(4);
    expect(new Set(all.map((s) => s.name)).size).toBe(all.length);
  });

  it("is deterministic for a seed and changes with the seed", () => {
    for (const name of SCENARIO_NAMES) {
      const a = generateScenario(name, { seed: 7 });
      const b = generateScenario(name, { seed: 7 });
      expect(b.anomalies).toEqual(a.anomalies);
      a.columns.forEach((c, k) => expect(Array.from(b.columns[k]?.values ?? [])).toEqual(Array.from(c.values)));
      const other = generateScenario(name, { seed: 8 });
      expect(Array.from(other.columns[0]?.values ?? []).slice(0, 500)).not.toEqual(Array.from(a.columns[0]?.values ?? []).slice(0, 500));
    }
  });

  it("produces well-formed, realistic series", () => {
    for (const s of generateScenarios()) {
      const n = s.timestampsMs.length;
      const days = (n * s.stepMs) / DAY;
      expect(days, s.name).toBeGreaterThanOrEqual(3);
      expect(days, s.name).toBeLessThanOrEqual(22);
      expect(s.stepMs).toBeGreaterThanOrEqual(60_000);
      expect(s.stepMs).toBeLessThanOrEqual(300_000);
      let badSteps = 0;
      for (let i = 1; i < n; i++) if (s.timestampsMs[i]! - s.timestampsMs[i - 1]! !== s.stepMs) badSteps++;
      expect(badSteps).toBe(0);
      // a training-only lead-in of at least 2 days before the first anomaly
      expect(s.evalStartMs - s.timestampsMs[0]!).toBeGreaterThanOrEqual(2 * DAY);
      for (const w of s.anomalies) {
        expect(w.startMs).toBeGreaterThanOrEqual(s.evalStartMs);
        expect(w.endMs).toBeGreaterThanOrEqual(w.startMs);
        expect(w.endMs).toBeLessThanOrEqual(s.timestampsMs[n - 1]!);
        expect((w.startMs - s.timestampsMs[0]!) % s.stepMs).toBe(0);
      }
      for (let k = 1; k < s.anomalies.length; k++) expect(s.anomalies[k]!.startMs).toBeGreaterThan(s.anomalies[k - 1]!.endMs);
      for (const c of s.columns) {
        expect(c.values.length).toBe(n);
        let nan = 0;
        const bad: string[] = [];
        for (const v of c.values) {
          if (Number.isNaN(v)) {
            nan++;
            continue;
          }
          if (!Number.isFinite(v) || v < 0) bad.push(`value ${v}`);
          if (c.unit === "percent" && v > 100) bad.push(`percent ${v}`);
          if (c.kind === "count" && !Number.isInteger(v)) bad.push(`count ${v}`);
        }
        expect(bad.slice(0, 3), `${s.name}/${c.name}`).toEqual([]);
        expect(nan / n, `${s.name}/${c.name} missing fraction`).toBeLessThan(0.05);
      }
    }
  });

  it("counters are monotonic except at resets", () => {
    const s = generateScenario("http-counters");
    for (const c of s.columns.filter((c) => c.kind === "counter")) {
      let prev = Number.NaN;
      let resets = 0;
      for (const v of c.values) {
        if (Number.isNaN(v)) continue;
        if (!Number.isNaN(prev) && v < prev) resets++;
        prev = v;
      }
      expect(resets).toBe(2);
    }
  });

  it("labels sit exactly where the anomalies were injected", () => {
    for (const name of SCENARIO_NAMES) {
      const injected = generateScenario(name, { seed: 3 });
      const clean = generateScenario(name, { seed: 3, inject: false });
      const changed = changedRows(injected, clean);
      const ts = injected.timestampsMs;
      const inWindow = (t: number): boolean => injected.anomalies.some((w) => t >= w.startMs && t <= w.endMs);
      // Aftermath: consequences declared by the generator (new normal after a restart/deploy,
      // a draining backlog), recomputed here by re-running the builder's declaration.
      const aftermath = aftermathOf(name);
      for (let i = 0; i < ts.length; i++) {
        if (!changed[i]) continue;
        const t = ts[i]!;
        expect(inWindow(t) || aftermath.some((a) => t >= a.startMs && t <= a.endMs), `${name}: row ${new Date(t).toISOString()} changed outside any label`).toBe(true);
      }
      for (const w of injected.anomalies) {
        let hits = 0;
        for (let i = 0; i < ts.length; i++) if (changed[i] && ts[i]! >= w.startMs && ts[i]! <= w.endMs) hits++;
        const rows = (w.endMs - w.startMs) / injected.stepMs + 1;
        expect(hits / rows, `${name}: ${w.description}`).toBeGreaterThan(0.5);
      }
    }
  });

  it("the regime change persists after its labelled window", () => {
    const s = generateScenario("deploy-regime-change");
    const rc = s.regimeChange!;
    expect(rc).toBeDefined();
    const w = s.anomalies.find((a) => a.kind === "regime-change")!;
    expect(w.startMs).toBe(rc.atMs);
    expect(w.endMs).toBe(rc.windowEndMs);
    const clean = generateScenario("deploy-regime-change", { inject: false });
    const cpu = s.columns[0]!.values;
    const cpu0 = clean.columns[0]!.values;
    const i0 = (rc.windowEndMs + DAY - s.timestampsMs[0]!) / s.stepMs;
    let d = 0;
    let k = 0;
    for (let i = i0; i < i0 + 1440; i++) {
      if (Number.isNaN(cpu[i]!) || Number.isNaN(cpu0[i]!)) continue;
      d += cpu[i]! - cpu0[i]!;
      k++;
    }
    expect(d / k).toBeGreaterThan(10); // still ~+14 pp a day later
  });

  it("writes CLI-format CSV with empty cells for missing values and a labels file", () => {
    const s = generateScenario("host-outage");
    const csv = scenarioToCsv(s);
    const lines = csv.trimEnd().split("\n");
    expect(lines[0]).toBe("timestamp,node_cpu_percent,node_memory_used_bytes,pool_request_rate,pool_error_count");
    expect(lines.length).toBe(s.timestampsMs.length + 1);
    expect(lines[1]!.split(",")[0]).toBe(String(s.timestampsMs[0]));
    const missing = s.columns[0]!.values.findIndex((v) => Number.isNaN(v));
    expect(lines[missing + 1]!.split(",")[1]).toBe("");
    const iso = scenarioToCsv(s, { time: "iso" }).split("\n")[1]!.split(",")[0];
    expect(iso).toBe("2025-03-03T00:00:00.000Z");
    const labels = labelsToCsv(s).trimEnd().split("\n");
    expect(labels[0]).toBe("start,end,kind,streams,description");
    expect(labels.length).toBe(s.anomalies.length + 1);
    expect(labels[1]!.startsWith(`${s.anomalies[0]!.startMs},${s.anomalies[0]!.endMs},outage,`)).toBe(true);
  });
});

describe("rng", () => {
  it("poisson consumes exactly one uniform whatever the rate", () => {
    const a = createRng(1);
    const b = createRng(1);
    a.poisson(0.5);
    b.poisson(500);
    expect(a.next()).toBe(b.next());
  });
  it("poisson mean is close to lambda", () => {
    const r = createRng(2);
    for (const lambda of [0.3, 4, 80]) {
      let s = 0;
      for (let i = 0; i < 20000; i++) s += r.poisson(lambda);
      expect(s / 20000).toBeCloseTo(lambda, lambda < 1 ? 1 : 0);
    }
  });
});

// Aftermath spans come from the builder; expose them by re-running with a spy builder.
function aftermathOf(name: string): { startMs: number; endMs: number }[] {
  const spans: { startMs: number; endMs: number }[] = [];
  const orig = ScenarioBuilder.prototype.build;
  ScenarioBuilder.prototype.build = function (this: ScenarioBuilder) {
    spans.push(...this.aftermath);
    return orig.call(this);
  };
  try {
    generateScenario(name, { seed: 3 });
  } finally {
    ScenarioBuilder.prototype.build = orig;
  }
  return spans;
}
