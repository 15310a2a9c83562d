import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors/app-error";
import { closeDatabase, configureDatabase, pool } from "../db";
import { ingestErrorReply } from "../http/reply";
import { migrate } from "../migrate";
import { readPartitionProgress } from "../repos/partition-repo";
import { readWorkerStatus } from "../repos/worker-status-repo";
import { setCommitSink } from "../services/ingest/group-commit";
import { ingestSeries, type IncomingSeries } from "../services/ingest/ingest-service";
import { NATS_BIN, PrivateNats } from "../testing/private-nats";
import { startThrowawayPostgres, throwawayPostgresAvailable, type ThrowawayPostgres } from "../testing/throwaway-postgres";
import { openSampleLog, type SampleLog } from "./sample-log";
import { natsCommitSink } from "./commit-publisher";
import { measureScoring, spawnScaleOutWorker } from "../testing/scale-out-workers";

/**
 * Fault tests of scale-out mode under load (issue 15), on a private nats-server and a private
 * PostgreSQL cluster (the machine's shared ones cannot be restarted), with two scoring workers
 * as child processes and the web process's commit path (group commit → JetStream) in this one:
 *
 * - NATS killed (SIGKILL) and started again while samples arrive: ingest answers 503 with
 *   Retry-After meanwhile, the sender retries, and every acknowledged sample is stored and
 *   scored exactly once;
 * - PostgreSQL stopped abruptly (`-m immediate`) and started again: the same.
 *
 * Prints acknowledged / stored / scored (distinct) / score rows written for each.
 * (`kill -9` of one of two workers: server/worker/partitioned/scale-out.int.test.ts.)
 */
const missing = !fs.existsSync(NATS_BIN) ? `${NATS_BIN} is not installed (apt-get install nats-server)` : !throwawayPostgresAvailable() ? "PostgreSQL server binaries are not installed" : null;
if (missing) console.log(`[nats-faults] skipped: ${missing}`);

const PARTITIONS = 4;
const STREAMS = 60;
const STEPS = 240;
const STEP_MS = 10_000;
const PACE_MS = 25;
/** the first phase's first step: both phases' data lie in the past */
const T0 = Math.floor(Date.now() / STEP_MS) * STEP_MS - (2 * STEPS + 10) * STEP_MS;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number, explain: () => string = () => ""): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${explain()}`);
    await sleep(250);
  }
}

interface Counts {
  acknowledged: number;
  refused: number;
  retryAfter: Set<string>;
  stored: number;
  scored: number;
  scoreRows: number;
}

describe.skipIf(Boolean(missing))("scale-out faults under load: NATS restart, PostgreSQL restart", () => {
  const nats = new PrivateNats();
  let cluster: ThrowawayPostgres;
  let dbUrl = "";
  let log: SampleLog;
  let sink: ReturnType<typeof natsCommitSink>;
  const workers: ChildProcess[] = [];
  const output: string[] = [];
  const prefix = "omen_faults";
  const tail = () => output.join("").slice(-8_000);

  const startWorker = (name: string) => {
    const child = spawnScaleOutWorker({ name, databaseUrl: dbUrl, natsUrl: nats.url, prefix, partitions: PARTITIONS, output });
    workers.push(child);
  };

  beforeAll(async () => {
    await nats.start();
    cluster = await startThrowawayPostgres();
    const admin = new (await import("pg")).default.Client({ connectionString: cluster.url() });
    await admin.connect();
    await admin.query("CREATE DATABASE omen_faults");
    await admin.end();
    dbUrl = cluster.url("omen_faults");
    await migrate(dbUrl);
    configureDatabase(dbUrl);
    log = await openSampleLog({ url: nats.url, prefix, partitions: PARTITIONS }, "omen faults test");
    sink = natsCommitSink(log);
    setCommitSink(sink.sink, sink.outbox);
    startWorker("w1");
    startWorker("w2");
    await until(
      "two workers sharing the partitions",
      async () => {
        const rows = await readWorkerStatus();
        const held = rows.map((w) => ((w.info.partitions as number[] | undefined) ?? []).length);
        return rows.length === 2 && held.every((n) => n === PARTITIONS / 2);
      },
      90_000,
      tail,
    );
  });

  afterAll(async () => {
    for (const c of workers) if (c.exitCode === null) c.kill("SIGKILL");
    const file = path.join(os.tmpdir(), "omen-nats-faults-workers.log");
    fs.writeFileSync(file, output.join(""));
    console.log(`[nats-faults] the workers' output: ${file}`);
    setCommitSink(null);
    sink?.close();
    await log?.nc.close().catch(() => undefined);
    await closeDatabase();
    await nats.remove();
    await cluster?.stop();
  });

  /**
   * Sends STEPS requests of STREAMS samples as a retrying client does (503/429: wait for
   * Retry-After, at most 1 s here, and send again), running `fault` once a third is sent.
   */
  const load = async (source: string, phase: number, fault: () => Promise<void>): Promise<Counts> => {
    const c: Counts = { acknowledged: 0, refused: 0, retryAfter: new Set(), stored: 0, scored: 0, scoreRows: 0 };
    // each phase's data after the previous one's: a partition's detectors step one clock, and samples behind it are late (not scored)
    const t0 = T0 + phase * STEPS * STEP_MS;
    let faultDone: Promise<void> = Promise.resolve();
    for (let k = 0; k < STEPS; k++) {
      if (k === Math.floor(STEPS / 3)) faultDone = fault();
      const series: IncomingSeries[] = Array.from({ length: STREAMS }, (_, i) => ({
        metric: "fault_metric",
        labels: { i: String(i) },
        kind: "gauge",
        values: [100 + 5 * Math.sin((k + i) / 6) + (i % 7)],
        tsMs: [t0 + k * STEP_MS],
      }));
      for (let attempt = 0; ; attempt++) {
        try {
          // a retry whose samples the refused attempt stored inserts none but is acknowledged whole
          c.acknowledged += (await ingestSeries(source, "remote_write", series, t0 + k * STEP_MS + 1_000)).received;
          break;
        } catch (e) {
          const reply = ingestErrorReply(e, 503);
          if (reply.status !== 503 && reply.status !== 429) throw e;
          c.refused++;
          c.retryAfter.add(reply.headers["Retry-After"] ?? "none");
          if (attempt > 300) throw new Error(`step ${k} never acknowledged: ${isAppError(e) ? e.message : String(e)}\n${tail()}`);
          await sleep(Math.min(1_000, Number(reply.headers["Retry-After"] ?? 1) * 1_000));
        }
      }
      await sleep(PACE_MS);
    }
    await faultDone;
    let last = "";
    let diag = "";
    const done = await until(
      `every acknowledged sample of ${source} scored`,
      async () => {
        const m = await measureScoring(source);
        const key = JSON.stringify(m);
        diag = JSON.stringify(await readPartitionProgress(log.names.stream).catch(() => null));
        const settled = m.stored === c.acknowledged && m.scored === m.stored && key === last;
        last = key;
        return settled ? m : null;
      },
      120_000,
      () => `last counts ${last}, acknowledged ${c.acknowledged}; partitions ${diag}\n${tail()}`,
    );
    return { ...c, ...done };
  };

  const print = (name: string, c: Counts) =>
    console.log(
      `[nats-faults] ${name}: acknowledged ${c.acknowledged}, stored ${c.stored}, scored (distinct) ${c.scored}, score rows written ${c.scoreRows}; ` +
        `refused attempts ${c.refused} (Retry-After ${[...c.retryAfter].join("/") || "-"})`,
    );

  it("NATS killed and restarted under load: 503 + Retry-After meanwhile, nothing acknowledged lost, each sample scored once", async () => {
    let outageMs = 0;
    const c = await load("nats-fault", 0, async () => {
      await nats.kill();
      const t = Date.now();
      await sleep(5_000);
      await nats.start();
      outageMs = Date.now() - t;
    });
    print(`NATS down ${(outageMs / 1000).toFixed(1)} s`, c);
    expect(c.refused).toBeGreaterThan(0);
    expect(c.retryAfter.has("5")).toBe(true);
    expect(c.acknowledged).toBe(STREAMS * STEPS);
    expect(c.stored).toBe(c.acknowledged);
    expect(c.scored).toBe(c.acknowledged);
    expect(c.scoreRows).toBe(c.acknowledged);
    expect(sink.backlog()).toBe(0);
  });

  it("PostgreSQL stopped abruptly and restarted under load: nothing acknowledged lost, each sample scored once", async () => {
    let outageMs = 0;
    const c = await load("pg-fault", 1, async () => {
      await cluster.down();
      const t = Date.now();
      await sleep(5_000);
      await cluster.up();
      outageMs = Date.now() - t;
    });
    print(`PostgreSQL down ${(outageMs / 1000).toFixed(1)} s`, c);
    expect(c.refused).toBeGreaterThan(0);
    expect(c.acknowledged).toBe(STREAMS * STEPS);
    expect(c.stored).toBe(c.acknowledged);
    expect(c.scored).toBe(c.acknowledged);
    expect(c.scoreRows).toBe(c.acknowledged);
  });
});
