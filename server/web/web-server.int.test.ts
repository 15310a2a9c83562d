import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeWriteRequest } from "@/lib/ingest/remote-write";
import { countSamples } from "../repos/storage/samples";
import { ensureSource } from "../repos/sources-repo";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";
import { freePort, startOmenServer, type OmenServer } from "../testing/omen-server";

/**
 * The web process as `npm start` runs it (server/web/main.ts): the write endpoints are answered
 * by the custom server, every other request by Next, and SIGTERM stops it cleanly.
 */
let tdb: TestDatabase;
let omen: OmenServer;

beforeAll(async () => {
  tdb = await createTestDatabase();
  omen = await startOmenServer({ databaseUrl: tdb.url });
});
afterAll(async () => {
  await omen?.stop();
  await tdb?.drop();
});

const RW = { "content-type": "application/x-protobuf", "content-encoding": "snappy" };
// Next marks every answer with its RSC vary header; the custom server's answers have none.
const byNext = (res: Response) => /\brsc\b/.test(res.headers.get("vary") ?? "");

describe("custom web server", () => {
  it("answers remote_write and OTLP itself", async () => {
    const before = await countSamples();
    const body = encodeWriteRequest({ timeseries: [{ labels: [{ name: "__name__", value: "web_server_metric" }], samples: [{ timestamp: Date.now(), value: 1 }] }] });
    const rw = await fetch(`${omen.url}/api/v1/write?source=web-test`, { method: "POST", headers: { ...RW, authorization: `Bearer ${omen.token}` }, body: Buffer.from(body) });
    expect(rw.status).toBe(204);
    expect(byNext(rw)).toBe(false);
    const otlp = await fetch(`${omen.url}/v1/metrics`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${omen.token}` },
      body: JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: "web_server_gauge", gauge: { dataPoints: [{ timeUnixNano: `${Date.now()}000000`, asDouble: 2 }] } }] }] }] }),
    });
    expect(otlp.status).toBe(200);
    expect(await otlp.json()).toEqual({});
    expect(byNext(otlp)).toBe(false);
    expect(await countSamples()).toBe(before + 2);
    const denied = await fetch(`${omen.url}/api/v1/write`, { method: "POST", headers: RW, body: Buffer.from(body) });
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ error: expect.stringMatching(/^Missing ingest token/) });
  });

  it("passes pages and other API routes to Next, and answers /api/health itself", async () => {
    const cookie = await omen.signIn();
    const page = await fetch(`${omen.url}/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(await page.text()).toContain("<title>Omen</title>");
    const api = await fetch(`${omen.url}/api/v1/streams`, { headers: { cookie } });
    expect(byNext(api)).toBe(true);
    await api.body?.cancel();
    // /api/health is answered by the custom server too (pollers get it fast under heavy ingest)
    const health = await fetch(`${omen.url}/api/health`, { headers: { cookie } });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ database: { ok: true } });
    expect(byNext(health)).toBe(false);
  });

  it("leaves other methods on the write paths, and unknown paths, to Next (405, 404)", async () => {
    const cookie = await omen.signIn();
    const get = await fetch(`${omen.url}/api/v1/write`, { headers: { cookie } });
    expect(get.status).toBe(405);
    expect(byNext(get)).toBe(true);
    const missing = await fetch(`${omen.url}/no-such-page`, { headers: { cookie } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/text\/html/);
    const missingApi = await fetch(`${omen.url}/api/v1/nothing-here`, { method: "POST", headers: { cookie } });
    expect(missingApi.status).toBe(404);
  });
});

describe("one ingest state per process", () => {
  it("a cardinality limit raised through Next (tRPC) applies at once to remote_write on the custom server", async () => {
    const source = await ensureSource("shared-state", "remote_write", {}, 2);
    const write = (n: number) =>
      fetch(`${omen.url}/api/v1/write?source=shared-state`, {
        method: "POST",
        headers: { ...RW, authorization: `Bearer ${omen.token}` },
        body: Buffer.from(
          encodeWriteRequest({
            timeseries: Array.from({ length: n }, (_, i) => ({ labels: [{ name: "__name__", value: "shared_metric" }, { name: "i", value: String(i) }], samples: [{ timestamp: Date.now(), value: i }] })),
          }),
        ),
      });
    // the custom server now caches the source with its limit of 2
    expect((await write(3)).status).toBe(400);
    const raised = await fetch(`${omen.url}/api/trpc/sources.setCardinalityLimit`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: await omen.signIn() },
      body: JSON.stringify({ json: { id: source.id, limit: 10 } }),
    });
    expect(raised.status).toBe(200);
    // Next's copy of the ingest service dropped the cached source, and that cache is the custom server's too
    expect((await write(3)).status).toBe(204);
  });
});

describe("web process lifecycle", () => {
  it("binds HOST:PORT, says so, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "main.ts")], {
      env: { ...process.env, DATABASE_URL: tdb.url, HOST: "127.0.0.1", PORT: String(port), OMEN_SKIP_MIGRATE: "1", NEXT_TELEMETRY_DISABLED: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!out.includes(`listening on http://127.0.0.1:${port}`)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the web process did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(200);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("refuses a bad setting with its name and exit code 1", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "main.ts")], {
      env: { ...process.env, DATABASE_URL: tdb.url, PORT: "not-a-port" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stderr.on("data", (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code).toBe(1);
    expect(out).toMatch(/PORT/);
  });
});
