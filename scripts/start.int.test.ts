import { spawn } from "node:child_process";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");

function runStart(env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; out: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
      cwd: root,
      env: { ...process.env, OMEN_DATA_DIR: path.join(os.tmpdir(), `omen-start-${process.pid}`), OMEN_SKIP_BUILD: "1", ...env },
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out, ms: Date.now() - t0 });
    });
  });
}

describe("npm start fails fast on bad configuration", () => {
  const blocker = net.createServer();
  afterAll(() => new Promise<void>((r) => blocker.close(() => r())));

  it("names an unreachable DATABASE_URL in one clear message", async () => {
    const r = await runStart({ PORT: "3197", DATABASE_URL: "postgres://omen:secret@127.0.0.1:1/omen" });
    expect(r.code).toBe(1);
    expect(r.out).toContain("Omen cannot start: cannot connect to DATABASE_URL");
    expect(r.out).toContain("127.0.0.1:1");
    expect(r.out).not.toContain("secret");
    expect(r.ms).toBeLessThan(15_000);
  });

  it("reports a port that is already in use", async () => {
    await new Promise<void>((r) => blocker.listen(3198, "127.0.0.1", () => r()));
    const r = await runStart({ PORT: "3198" });
    expect(r.code).toBe(1);
    expect(r.out).toContain("port 3198 on 127.0.0.1 is already in use");
  });

  it("rejects invalid settings before touching anything", async () => {
    const r = await runStart({ PORT: "not-a-port", DATABASE_URL: "mysql://x" });
    expect(r.code).toBe(1);
    expect(r.out).toContain("Invalid Omen configuration");
    expect(r.out).toMatch(/PORT:/);
    expect(r.out).toMatch(/DATABASE_URL: must be a postgres:\/\//);
  });
});
