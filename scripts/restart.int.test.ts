import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";

/**
 * Embedded-mode durability as a user meets it: `npm start`, let the host collector write, kill
 * the whole thing with SIGKILL (no clean shutdown), start again: every stream, sample and
 * anomaly is still there and collection resumes.
 */
const root = path.resolve(import.meta.dirname, "..");
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "omen-restart-"));
const port = 3196;
let child: ChildProcess | undefined;

function start(): ChildProcess {
  const c = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: "",
      PORT: String(port),
      OMEN_DATA_DIR: dataDir,
      OMEN_COLLECT_INTERVAL_MS: "1000",
      OMEN_SKIP_BUILD: fs.existsSync(path.join(root, ".next", "BUILD_ID")) ? "1" : "0",
    },
    stdio: "ignore",
  });
  child = c;
  return c;
}

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      /* not ready */
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function query<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const { url } = JSON.parse(fs.readFileSync(path.join(dataDir, "embedded.json"), "utf8")) as { url: string };
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

const counts = () =>
  query<{ streams: number; samples: number; anomalies: number }>(
    "SELECT (SELECT count(*)::int FROM stream) AS streams, (SELECT count(*)::int FROM sample) AS samples, (SELECT count(*)::int FROM anomaly) AS anomalies",
  ).then((r) => r[0]!);

describe("npm start in embedded mode survives a kill", () => {
  afterAll(async () => {
    child?.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 2000));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps streams, samples and anomalies after SIGKILL and restart", async () => {
    const first = start();
    await until(async () => ((await fetch(`http://127.0.0.1:${port}/api/health`)).ok ? true : undefined), 300_000);
    await until(async () => ((await counts()).samples >= 60 ? true : undefined), 60_000);
    // An anomaly row as a user would have it after triage, so anomalies are covered too.
    const [stream] = await query<{ id: number }>("SELECT id FROM stream ORDER BY id LIMIT 1");
    await query(
      `INSERT INTO anomaly (id, engine_id, stream_id, stream_ids, start_at, peak_score, severity, type, status, label, updated_at)
       VALUES (gen_random_uuid(), 'restart-test', ${stream!.id}, ARRAY[${stream!.id}], now(), 97, 'high', 'point', 'acknowledged', 'true_anomaly', now())`,
    );
    const before = await counts();
    const keysBefore = (await query<{ key: string }>("SELECT key FROM stream ORDER BY id")).map((r) => r.key);

    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    // Children notice the dead parent within ~1 s and exit, freeing the port.
    await until(async () => {
      try {
        await fetch(`http://127.0.0.1:${port}/api/health`);
        return undefined;
      } catch {
        return true;
      }
    }, 60_000); // generous: under a loaded machine the children's shutdown can take a while

    start();
    await until(async () => ((await fetch(`http://127.0.0.1:${port}/api/health`)).ok ? true : undefined), 120_000);
    const after = await counts();
    expect(after.streams).toBe(before.streams);
    expect(after.samples).toBeGreaterThanOrEqual(before.samples);
    expect(after.anomalies).toBe(before.anomalies);
    expect((await query<{ key: string }>("SELECT key FROM stream ORDER BY id")).map((r) => r.key)).toEqual(keysBefore);
    const [a] = await query<{ status: string; label: string }>("SELECT status::text, label::text FROM anomaly WHERE engine_id = 'restart-test'");
    expect(a).toEqual({ status: "acknowledged", label: "true_anomaly" });
    // Collection resumes on the restarted instance.
    await until(async () => ((await counts()).samples > after.samples ? true : undefined), 30_000);
  });
});
