import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeWriteRequest } from "@/lib/ingest/remote-write";
import { readWorkerStatus } from "../repos/worker-status-repo";
import { countOutbox } from "../repos/outbox-repo";
import { startOmenServer, type OmenServer } from "../testing/omen-server";
import { NATS_BIN, PrivateNats } from "../testing/private-nats";
import { measureScoring, spawnScaleOutWorker, waitFor } from "../testing/scale-out-workers";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";

/**
 * The outbox of scale-out mode (docs/scale-out.md): a web process that dies (`kill -9`) during
 * a NATS outage leaves samples stored, and acknowledged to a client whose retry found them
 * stored, but never published. Another process publishes them, before newer commits: every
 * acknowledged sample is stored and scored exactly once.
 *
 * - only the web process killed: the running worker takes the commits over (the outbox's
 *   periodic look for commits left by others);
 * - the web process and the worker killed (the machine lost): the fresh web process publishes
 *   them when it starts, before the client's newer samples, and a fresh worker scores them.
 *
 * Real parts: the web process as `npm start` runs it (server/web/main.ts), a scale-out worker
 * process, a private nats-server (killed and started again) and the machine's PostgreSQL.
 */
const missing = !fs.existsSync(NATS_BIN) ? `${NATS_BIN} is not installed (apt-get install nats-server)` : !process.env.TEST_DATABASE_URL ? "TEST_DATABASE_URL is not set" : null;
if (missing) console.log(`[nats-outbox] skipped: ${missing}`);

const PARTITIONS = 4;
const STREAMS = 40;
const STEP_MS = 10_000;
/** steps sent before the outage, during it (each refused once, then acknowledged), and after */
const BEFORE = 10;
const DURING = 2;
const AFTER = 10;
const STEPS = BEFORE + DURING + AFTER;
/** the first scenario's first step: both scenarios' data lie in the past, the second's after the first's */
const T0 = Math.floor(Date.now() / STEP_MS) * STEP_MS - (2 * STEPS + 10) * STEP_MS;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(Boolean(missing))("scale-out outbox: a web process killed during a NATS outage", () => {
  const nats = new PrivateNats();
  let tdb: TestDatabase;
  const webs: OmenServer[] = [];
  const workers: ChildProcess[] = [];
  const output: string[] = [];
  const prefix = "omen_outbox";
  const everything = () => [output.join(""), ...webs.map((w, i) => `web process ${i + 1}:\n${w.logs()}`)].join("\n");
  const tail = () => everything().slice(-8_000);

  const startWorker = (name: string) => workers.push(spawnScaleOutWorker({ name, databaseUrl: tdb.url, natsUrl: nats.url, prefix, partitions: PARTITIONS, output }));
  const ownsAll = (name: string) =>
    waitFor(
      `${name} to own every partition`,
      async () => (await readWorkerStatus()).some((w) => w.name === name && ((w.info.partitions as number[] | undefined) ?? []).length === PARTITIONS),
      90_000,
      250,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${tail()}`);
    });
  const killHard = async (pid: number) => {
    process.kill(pid, "SIGKILL");
    await waitFor(
      `process ${pid} to die`,
      async () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      10_000,
    );
  };

  const startWeb = async () => {
    const web = await startOmenServer({ databaseUrl: tdb.url, env: { OMEN_NATS_URL: nats.url, OMEN_NATS_PREFIX: prefix, OMEN_PARTITIONS: String(PARTITIONS) } });
    webs.push(web);
    return web;
  };

  beforeAll(async () => {
    await nats.start();
    tdb = await createTestDatabase("postgres");
    startWorker("w1");
    await ownsAll("w1");
  });

  afterAll(async () => {
    for (const w of webs) await w.stop();
    for (const w of workers) if (w.exitCode === null) w.kill("SIGKILL");
    const file = path.join(os.tmpdir(), "omen-nats-outbox.log");
    fs.writeFileSync(file, everything());
    console.log(`[nats-outbox] the processes' output: ${file}`);
    await nats.remove();
    await tdb?.drop();
  });

  /**
   * Sends step `k` from `t0` (one sample per stream) as a retrying remote_write client does,
   * until it is acknowledged (204); returns how many attempts were refused (503).
   */
  const send = async (web: OmenServer, source: string, t0: number, k: number): Promise<number> => {
    const body = encodeWriteRequest({
      timeseries: Array.from({ length: STREAMS }, (_, i) => ({
        labels: [
          { name: "__name__", value: "outbox_metric" },
          { name: "i", value: String(i) },
        ],
        samples: [{ timestamp: t0 + k * STEP_MS, value: 100 + 5 * Math.sin((k + i) / 6) + (i % 7) }],
      })),
    });
    for (let refused = 0; ; refused++) {
      const res = await fetch(`${web.url}/api/v1/write?source=${source}`, {
        method: "POST",
        headers: { "content-type": "application/x-protobuf", "content-encoding": "snappy", authorization: `Bearer ${web.token}` },
        body: Buffer.from(body),
      });
      const text = await res.text();
      if (res.status === 204) return refused;
      if (res.status !== 503 || refused > 20) throw new Error(`step ${k}: HTTP ${res.status} ${text}\n${tail()}`);
      // a real sender waits Retry-After (5 s); sooner here, to keep the outage short
      await sleep(250);
    }
  };

  /** Ingest, NATS killed, more ingest acknowledged on retry, the web process killed (and `alsoKill`), NATS and a fresh web process started, newer ingest. */
  const scenario = async (phase: number, source: string, alsoKill: { worker: ChildProcess; restartAs: string } | null) => {
    const t0 = T0 + phase * STEPS * STEP_MS;
    let acknowledged = 0;
    const web1 = await startWeb();
    for (let k = 0; k < BEFORE; k++) {
      expect(await send(web1, source, t0, k)).toBe(0);
      acknowledged += STREAMS;
    }

    await nats.kill();
    const tDown = Date.now();
    let refused = 0;
    for (let k = BEFORE; k < BEFORE + DURING; k++) {
      // the first attempt stores the samples and answers 503 (not published); the retry finds them stored: 204
      refused += await send(web1, source, t0, k);
      acknowledged += STREAMS;
    }
    expect(refused).toBeGreaterThanOrEqual(DURING);
    const left = await countOutbox();
    expect(left).toBeGreaterThanOrEqual(DURING);

    await killHard(web1.pids.web);
    if (alsoKill) await killHard(alsoKill.worker.pid!);
    await nats.start();
    const outageMs = Date.now() - tDown;

    // a fresh web process, and the client goes on with newer samples at once
    const web2 = await startWeb();
    const tUp = Date.now();
    for (let k = BEFORE + DURING; k < STEPS; k++) {
      await send(web2, source, t0, k);
      acknowledged += STREAMS;
    }
    if (alsoKill) startWorker(alsoKill.restartAs);

    let last = "";
    const counts = await waitFor(
      `every acknowledged sample of ${source} scored`,
      async () => {
        const m = await measureScoring(source);
        const key = JSON.stringify(m);
        const settled = m.stored === acknowledged && m.scored === acknowledged && key === last;
        last = key;
        return settled ? m : null;
      },
      60_000,
      500,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: last counts ${last}, acknowledged ${acknowledged}\n${tail()}`);
    });
    // each publisher deletes what it published just after JetStream took it
    const outboxAfter = await waitFor("the outbox to empty", async () => ((await countOutbox()) === 0 ? "empty" : null), 10_000).then(() => 0).catch(countOutbox);
    return { acknowledged, refused, left, outboxAfter, outageMs, scoredAfterMs: Date.now() - tUp, ...counts };
  };

  const print = (name: string, c: Awaited<ReturnType<typeof scenario>>) =>
    console.log(
      `[nats-outbox] ${name}: NATS down ${(c.outageMs / 1000).toFixed(1)} s, ${DURING} steps acknowledged on retry meanwhile (${c.refused} refused attempts), ${c.left} commit(s) in the outbox at the kill; ` +
        `all scored ${(c.scoredAfterMs / 1000).toFixed(1)} s after the fresh web process was up; ` +
        `acknowledged ${c.acknowledged}, stored ${c.stored}, scored (distinct) ${c.scored}, score rows written ${c.scoreRows} (at most ${c.maxRowsPerSample} per sample); outbox left ${c.outboxAfter}`,
    );

  const expectExact = (c: Awaited<ReturnType<typeof scenario>>) => {
    expect(c.acknowledged).toBe(STREAMS * STEPS);
    expect(c.stored).toBe(c.acknowledged);
    expect(c.scored).toBe(c.acknowledged);
    expect(c.scoreRows).toBe(c.acknowledged);
    expect(c.maxRowsPerSample).toBe(1);
    expect(c.outboxAfter).toBe(0);
  };

  it("web process killed: the running worker publishes its commits; acknowledged = stored = scored once", async () => {
    const c = await scenario(0, "outbox-web-killed", null);
    print("web killed during a NATS outage", c);
    expectExact(c);
  }, 300_000);

  it("web process and worker killed: the fresh web process publishes them first; acknowledged = stored = scored once", async () => {
    await ownsAll("w1");
    const c = await scenario(1, "outbox-all-killed", { worker: workers[0]!, restartAs: "w2" });
    print("web and worker killed during a NATS outage", c);
    expectExact(c);
  }, 300_000);
});
