import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeWriteRequest } from "@/lib/ingest/remote-write";
import { startOmenServer, type OmenServer } from "../testing/omen-server";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";

/**
 * Issue 14, item 7: with the worker frozen (SIGSTOP) ingest never hangs: every remote_write
 * request gets an answer within seconds, 503 with Retry-After once the worker's heartbeat is
 * stale, and /api/health answers fast with ok: false; after SIGCONT ingest is accepted again.
 */
const STEP = 10_000;

function request(k: number, baseMs: number): Uint8Array<ArrayBuffer> {
  const timeseries = Array.from({ length: 50 }, (_, i) => ({
    labels: [
      { name: "__name__", value: "stall_metric" },
      { name: "i", value: String(i) },
    ],
    samples: [{ timestamp: baseMs + k * STEP, value: 10 + i + (k % 5) }],
  }));
  return new Uint8Array(encodeWriteRequest({ timeseries }));
}

describe.skipIf(!process.env.TEST_DATABASE_URL)("a stalled worker", () => {
  let tdb: TestDatabase;
  let omen: OmenServer;
  beforeAll(async () => {
    tdb = await createTestDatabase("postgres");
    omen = await startOmenServer({ databaseUrl: tdb.url, worker: true });
  });
  afterAll(async () => {
    if (omen?.pids.worker) process.kill(omen.pids.worker, "SIGCONT");
    await omen?.stop();
    await tdb?.drop();
  });

  const send = async (k: number, baseMs: number) => {
    const t = performance.now();
    const res = await fetch(`${omen.url}/api/v1/write?source=stall`, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf", "content-encoding": "snappy", "x-prometheus-remote-write-version": "0.1.0", authorization: `Bearer ${omen.token}` },
      body: request(k, baseMs),
      signal: AbortSignal.timeout(30_000),
    });
    await res.text();
    return { status: res.status, retryAfter: res.headers.get("retry-after"), ms: performance.now() - t };
  };

  it("ingest answers 503 with Retry-After within seconds, health says why, and recovers after SIGCONT", async () => {
    const baseMs = Math.floor((Date.now() - 3_600_000) / STEP) * STEP;
    // the worker is up and heartbeating
    const healthy = async () => (await (await fetch(`${omen.url}/api/health`, { headers: { authorization: `Bearer ${omen.readToken}` } })).json()) as { ok: boolean; problems: string[]; backlog: unknown };
    for (let i = 0; i < 240 && !(await healthy()).ok; i++) await new Promise((r) => setTimeout(r, 250));
    expect((await healthy()).ok).toBe(true);
    expect((await send(0, baseMs)).status).toBe(204);

    process.kill(omen.pids.worker!, "SIGSTOP");
    const answers: { status: number; retryAfter: string | null; ms: number }[] = [];
    const health: { ms: number; ok: boolean; problems: string[] }[] = [];
    const deadline = Date.now() + 32_000;
    let k = 1;
    for (; Date.now() < deadline; k++) {
      answers.push(await send(k, baseMs));
      const t = performance.now();
      const h = await healthy();
      health.push({ ms: performance.now() - t, ok: h.ok, problems: h.problems });
      await new Promise((r) => setTimeout(r, 500));
    }
    const slowest = Math.max(...answers.map((a) => a.ms));
    console.log(`[stall] ${answers.length} requests while the worker was stopped: slowest ${slowest.toFixed(0)} ms; statuses ${[...new Set(answers.map((a) => a.status))].join(", ")}`);
    expect(slowest).toBeLessThan(6_000);
    const last = answers.at(-1)!;
    expect(last.status).toBe(503);
    expect(Number(last.retryAfter)).toBeGreaterThan(0);
    expect(Math.max(...health.map((h) => h.ms))).toBeLessThan(2_000);
    expect(health.at(-1)!.ok).toBe(false);
    expect(health.at(-1)!.problems.join(" ")).toMatch(/worker is down/);

    process.kill(omen.pids.worker!, "SIGCONT");
    let status = 0;
    for (let tries = 0; tries < 200 && status !== 204; tries++) {
      status = (await send(k++, baseMs)).status;
      if (status !== 204) await new Promise((r) => setTimeout(r, 500));
    }
    expect(status).toBe(204);
  }, 180_000);
});
