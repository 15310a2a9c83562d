import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const out = mkdtempSync(path.join(tmpdir(), "omen-scenarios-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("scripts/gen-scenarios.ts", () => {
  it("writes data, labels and a manifest to --out", () => {
    execFileSync(process.execPath, ["--import", "tsx", "scripts/gen-scenarios.ts", "--out", out, "--scenario", "web-cpu-spikes,http-counters"], { cwd: root, stdio: "pipe" });
    const manifest = JSON.parse(readFileSync(path.join(out, "manifest.json"), "utf8"));
    expect(manifest.scenarios.map((s: { name: string }) => s.name)).toEqual(["web-cpu-spikes", "http-counters"]);
    const csv = readFileSync(path.join(out, "http-counters.csv"), "utf8").split("\n");
    expect(csv[0]).toBe("timestamp,http_requests_total,http_errors_5xx_total");
    expect(csv[1]).toMatch(/^\d{13},\d+,\d+$/);
    const labels = readFileSync(path.join(out, "web-cpu-spikes.labels.csv"), "utf8").trim().split("\n");
    expect(labels).toHaveLength(4);
  });

  it("fails without --out", () => {
    expect(() => execFileSync(process.execPath, ["--import", "tsx", "scripts/gen-scenarios.ts"], { cwd: root, stdio: "pipe" })).toThrow();
  });
});
