import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { indexTimeAxis, INDEX_BASE_MS, INDEX_STEP_MS, parseTimestamp } from "./detect";

const root = path.resolve(import.meta.dirname, "..");

function detect(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "scripts/detect.ts"), ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), "omen-detect-"));
}

function series(rows: number, spikeAt: number, ts: (r: number) => string): string {
  const lines = ["timestamp,cpu,latency"];
  for (let r = 0; r < rows; r++) {
    const cpu = 50 + 5 * Math.sin(r / 30) + ((r * 7919) % 13) / 13 + (r >= spikeAt && r < spikeAt + 3 ? 60 : 0);
    const lat = r % 97 === 5 ? "" : (120 + ((r * 104729) % 17) / 4).toFixed(2);
    lines.push(`${ts(r)},${cpu.toFixed(3)},${lat}`);
  }
  return lines.join("\n") + "\n";
}

describe("scripts/detect.ts (spawned)", () => {
  it("scores a CSV with ISO timestamps: input columns + 4 output columns, spike flagged", () => {
    const dir = tmp();
    const input = path.join(dir, "in.csv");
    const output = path.join(dir, "out.csv");
    writeFileSync(input, series(800, 700, (r) => new Date(Date.UTC(2024, 0, 1) + r * 60_000).toISOString()));
    const r = detect(["--in", input, "--out", output]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = readFileSync(output, "utf8").trim().split("\n");
    expect(lines[0]).toBe("timestamp,cpu,latency,anomaly_score,is_anomaly,severity,type,causes,p_anomaly_30m");
    expect(lines.length).toBe(801);
    const spikeRows = lines.slice(701, 704).map((l) => l.split(","));
    const spike = spikeRows.find((c) => c[4] === "1")!;
    expect(spike).toBeDefined();
    expect(Number(spike[3])).toBeGreaterThan(60);
    expect(["low", "medium", "high"]).toContain(spike[5]);
    // missing cells survive as empty
    expect(lines[6]!.split(",")[2]).toBe("");
    const flagged = lines.slice(1).filter((l) => l.split(",")[4] === "1").length;
    expect(flagged).toBeLessThan(20);
  });

  it("is deterministic and accepts epoch seconds, a single `value` column and --config", () => {
    const dir = tmp();
    const input = path.join(dir, "in.csv");
    const lines = ["timestamp,value"];
    for (let r = 0; r < 300; r++) lines.push(`${1_700_000_000 + r * 60},${(10 + (r % 5)).toString()}`);
    writeFileSync(input, lines.join("\n") + "\n");
    writeFileSync(path.join(dir, "cfg.json"), JSON.stringify({ seed: 3, severity: { low: 70 } }));
    const a = detect(["--in", input, "--out", path.join(dir, "a.csv"), "--config", path.join(dir, "cfg.json")]);
    const b = detect(["--in", input, "--out", path.join(dir, "b.csv"), "--config", path.join(dir, "cfg.json")]);
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    expect(readFileSync(path.join(dir, "a.csv"), "utf8")).toBe(readFileSync(path.join(dir, "b.csv"), "utf8"));
  });

  it("carries a ground-truth label column through without scoring it (one is_anomaly column out)", () => {
    const dir = tmp();
    const input = path.join(dir, "in.csv");
    const lines = ["timestamp,value,is_anomaly"];
    // a clean daily-like wave; a 0/1 label scored as a stream would add its own anomalies
    for (let r = 1; r <= 1500; r++) lines.push(`${r},${(100 + 20 * Math.sin((2 * Math.PI * r) / 24) + ((r * 7919) % 13) / 13).toFixed(3)},${r === 1200 ? 1 : 0}`);
    lines[1200] = lines[1200]!.replace(/,[^,]+,1$/, ",190,1");
    writeFileSync(input, lines.join("\n") + "\n");
    const r = detect(["--in", input, "--out", path.join(dir, "out.csv")]);
    expect(r.status).toBe(0);
    const out = readFileSync(path.join(dir, "out.csv"), "utf8").trim().split("\n");
    expect(out[0]).toBe("timestamp,value,input_is_anomaly,anomaly_score,is_anomaly,severity,type,causes,p_anomaly_30m");
    const flagged = out.slice(1).map((l) => l.split(",")).filter((c) => c[4] === "1").map((c) => Number(c[0]));
    expect(flagged).toContain(1200);
    expect(flagged.length).toBeLessThan(5);
    expect(out[1200]!.split(",")[2]).toBe("1"); // the label is carried unchanged
  });

  it("reads NaN / NA / null / None cells as missing values, like empty ones", () => {
    const dir = tmp();
    const rows = ["timestamp,value"];
    for (let r = 0; r < 200; r++) rows.push(`${1_700_000_000 + r * 60},${["NaN", "nan", "NA", "null", "None", ""][r % 12] ?? String(10 + (r % 3))}`);
    writeFileSync(path.join(dir, "in.csv"), rows.join("\n") + "\n");
    const r = detect(["--in", path.join(dir, "in.csv"), "--out", path.join(dir, "o.csv")]);
    expect(r.status).toBe(0);
    const out = readFileSync(path.join(dir, "o.csv"), "utf8").trim().split("\n");
    expect(out).toHaveLength(201);
    expect(out[1]!.split(",")[1]).toBe("NaN"); // carried through as written
  });

  it("refuses a file whose only column is a label", () => {
    const dir = tmp();
    writeFileSync(path.join(dir, "in.csv"), "timestamp,label\n1,0\n2,1\n");
    const r = detect(["--in", path.join(dir, "in.csv"), "--out", path.join(dir, "o.csv")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no stream column to score: "label" is a ground-truth label/);
    expect(existsSync(path.join(dir, "o.csv"))).toBe(false);
  });

  it.each([
    ["no header", "1700000000,1\n1700000060,2\n", /:1: no header row/],
    ["unparsable timestamp", "timestamp,value\n2024-01-01T00:00:00Z,1\nyesterday,2\n", /:3: unparsable timestamp "yesterday"/],
    ["non-numeric cell", "timestamp,value\n1700000000,1\n1700000060,abc\n", /:3: non-numeric value "abc" in column "value"/],
    ["ragged row", "timestamp,value\n1700000000,1,2\n", /:2.*malformed CSV/],
  ])("%s: exit 1 with the line named, no output file", (_name, text, msg) => {
    const dir = tmp();
    const input = path.join(dir, "in.csv");
    writeFileSync(input, text);
    const r = detect(["--in", input, "--out", path.join(dir, "out.csv")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(msg);
    expect(existsSync(path.join(dir, "out.csv"))).toBe(false);
    expect(readdirSync(dir)).toEqual(["in.csv"]);
  });

  it("scores rows whose timestamp repeats or goes back: one output row per input row, counts on stderr", () => {
    const dir = tmp();
    const base = Date.UTC(2024, 0, 1);
    const iso = (m: number) => new Date(base + m * 60_000).toISOString();
    const lines = ["timestamp,cpu,latency"];
    for (let r = 0; r < 600; r++) {
      lines.push(`${iso(r)},${(50 + ((r * 7919) % 13) / 13).toFixed(3)},${(120 + ((r * 104729) % 17) / 4).toFixed(2)}`);
      if (r === 300) lines.push(`${iso(r)},50.5,121`); // the same instant again
      if (r === 400) lines.push(`${iso(r - 90)},50.2,122`); // a row from 90 minutes ago
    }
    lines.push(`${iso(599)},99,400`); // a spike at the last instant, repeated: still scored
    writeFileSync(path.join(dir, "in.csv"), lines.join("\n") + "\n");
    const r = detect(["--in", path.join(dir, "in.csv"), "--out", path.join(dir, "o.csv")]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/603 rows scored; 1 late row \(timestamp before an earlier row's, first at line 404, up to 90 min behind\), 2 duplicate timestamps \(first at line 303\)/);
    const out = readFileSync(path.join(dir, "o.csv"), "utf8").trim().split("\n").map((l) => l.split(","));
    expect(out).toHaveLength(604);
    expect(out.slice(1).map((c) => c[0])).toEqual(lines.slice(1).map((l) => l.split(",")[0])); // same rows, same order
    for (const c of out.slice(1)) expect(Number(c[3])).toBeGreaterThanOrEqual(0);
    const last = out[603]!;
    expect(last[4]).toBe("1"); // the late duplicate spike is flagged
    expect(last[7]!.split("|")[0]).toMatch(/^(latency|cpu)$/);
  });

  it("names causes only on anomalous rows and gives a probability on every row", () => {
    const dir = tmp();
    writeFileSync(path.join(dir, "in.csv"), series(800, 700, (r) => new Date(Date.UTC(2024, 0, 1) + r * 60_000).toISOString()));
    const r = detect(["--in", path.join(dir, "in.csv"), "--out", path.join(dir, "o.csv")]);
    expect(r.status).toBe(0);
    const out = readFileSync(path.join(dir, "o.csv"), "utf8").trim().split("\n").slice(1).map((l) => l.split(","));
    for (const c of out) {
      const p = Number(c[8]);
      expect(p >= 0 && p <= 1).toBe(true);
      if (c[4] === "0") expect(c[7]).toBe("");
      else expect(c[7]!.length).toBeGreaterThan(0);
    }
    // the cpu spike (rows 700–702) is explained by cpu first
    expect(out[700]![4]).toBe("1");
    expect(out[700]![7]!.split("|")[0]).toBe("cpu");
  });

  it("rejects an invalid config", () => {
    const dir = tmp();
    writeFileSync(path.join(dir, "in.csv"), "timestamp,value\n1700000000,1\n");
    writeFileSync(path.join(dir, "cfg.json"), JSON.stringify({ severity: { low: 200 } }));
    const r = detect(["--in", path.join(dir, "in.csv"), "--out", path.join(dir, "o.csv"), "--config", path.join(dir, "cfg.json")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/invalid config/);
  });
});

describe("row-index timestamps", () => {
  it("reads 1, 2, 3 … as a row index spaced one hour apart, and real timestamps as themselves", () => {
    expect(Array.from(indexTimeAxis(["1", "2", "3"])!)).toEqual([1, 2, 3].map((i) => INDEX_BASE_MS + i * INDEX_STEP_MS));
    expect(indexTimeAxis(["1", "3", "4"])).toBeNull();
    expect(indexTimeAxis(["1700000000", "1700000001"])).toBeNull();
    expect(indexTimeAxis(["2024-01-01", "2024-01-02"])).toBeNull();
  });

  it("learns a 24-row cycle in an indexed file and flags a daytime level at night", () => {
    const dir = tmp();
    const input = path.join(dir, "in.csv");
    const output = path.join(dir, "out.csv");
    const lines = ["timestamp,value"];
    const wave = (i: number) => 100 + 30 * Math.sin((2 * Math.PI * i) / 24);
    for (let i = 1; i <= 1400; i++) {
      const noise = (((i * 7919) % 13) / 13 - 0.5) * 3;
      // rows 1000-1003: the level of twelve hours later (inside the global range, wrong for the hour)
      lines.push(`${i},${(i >= 1000 && i < 1004 ? wave(i + 12) : wave(i) + noise).toFixed(3)}`);
    }
    writeFileSync(input, lines.join("\n") + "\n");
    const r = detect(["--in", input, "--out", output]);
    expect(r.status, r.stderr).toBe(0);
    const out = readFileSync(output, "utf8").trim().split("\n").slice(1).map((l) => l.split(","));
    expect(out.slice(998, 1004).some((c) => c[3] === "1")).toBe(true);
    expect(out.slice(400, 990).filter((c) => c[3] === "1").length).toBe(0);
  });
});

describe("parseTimestamp", () => {
  it("reads ISO 8601, epoch seconds and epoch milliseconds", () => {
    expect(parseTimestamp("2024-01-01T00:00:00Z")).toBe(Date.UTC(2024, 0, 1));
    expect(parseTimestamp("2024-01-01 00:01:00")).toBe(Date.UTC(2024, 0, 1, 0, 1));
    expect(parseTimestamp("1700000000")).toBe(1_700_000_000_000);
    expect(parseTimestamp("1700000000123")).toBe(1_700_000_000_123);
    expect(parseTimestamp("nope")).toBeNaN();
  });

  it("reads year-first dates with slashes and refuses ambiguous day/month-first ones", () => {
    expect(parseTimestamp("2015/09/01 00:05")).toBe(Date.UTC(2015, 8, 1, 0, 5));
    expect(parseTimestamp("2015/09/01")).toBe(Date.UTC(2015, 8, 1));
    expect(parseTimestamp("09/01/2015 00:00")).toBeNaN();
  });
});
