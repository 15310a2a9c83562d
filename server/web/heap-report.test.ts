import { afterEach, describe, expect, it, vi } from "vitest";
import { installHeapReport, parseHeapReports } from "./heap-report";

describe("heap report on SIGUSR2", () => {
  let uninstall: (() => void) | null = null;
  afterEach(() => {
    uninstall?.();
    vi.restoreAllMocks();
  });

  it("answers each signal with one parseable line of memory after a full GC, and sees retained memory", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
    uninstall = installHeapReport();
    const report = async () => {
      const seen = parseHeapReports(lines.join("\n")).length;
      process.kill(process.pid, "SIGUSR2");
      for (let i = 0; i < 200 && parseHeapReports(lines.join("\n")).length === seen; i++) await new Promise((r) => setTimeout(r, 10));
      return parseHeapReports(lines.join("\n")).at(-1)!;
    };
    const before = await report();
    const kept = Array.from({ length: 64 }, () => new Uint8Array(1024 * 1024).fill(1)); // 64 MB held
    const after = await report();
    expect([before.n, after.n]).toEqual([1, 2]);
    expect(after.external - before.external).toBeGreaterThan(60 * 2 ** 20);
    expect(kept.length).toBe(64);
  });
});
