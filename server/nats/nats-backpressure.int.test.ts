import type { ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestErrorReply } from "../http/reply";
import { readPartitionProgress } from "../repos/partition-repo";
import { countSamples } from "../repos/storage/samples";
import { readWorkerStatus } from "../repos/worker-status-repo";
import { setCommitSink } from "../services/ingest/group-commit";
import { assertIngestCapacity, ingestSeries, resetIngestCapacityCache, setLogBacklogProbe, type IncomingSeries } from "../services/ingest/ingest-service";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";
import { readLogBacklog } from "./log-backlog";
import { destroySampleLog, openSampleLog, type SampleLog } from "./sample-log";
import { natsCommitSink } from "./commit-publisher";
import { natsUnreachable, spawnScaleOutWorker, waitFor } from "../testing/scale-out-workers";

/**
 * Back-pressure in scale-out mode (issue 15), on the machine's NATS and PostgreSQL: with the
 * only worker frozen (SIGSTOP), ingest goes on until the sample log holds OMEN_NATS_MAX_PENDING
 * messages the workers have not taken care of, then answers 503 with Retry-After instead of
 * letting the log grow; once the worker runs again it catches up, ingest is accepted again,
 * and every acknowledged sample is scored.
 */
const NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const PARTITIONS = 4;
const STREAMS = 40;
const STEP_MS = 10_000;
const LIMIT = 200;

const unreachable = await natsUnreachable(NATS_URL);
const hasPostgres = Boolean(process.env.TEST_DATABASE_URL);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
describe.skipIf(Boolean(unreachable) || !hasPostgres)("scale-out back-pressure (OMEN_NATS_MAX_PENDING)", () => {
  let tdb: TestDatabase;
  let log: SampleLog;
  let sink: ReturnType<typeof natsCommitSink>;
  let worker: ChildProcess | null = null;
  const prefix = `omen_b_${crypto.randomBytes(4).toString("hex")}`;
  const output: string[] = [];
  const withLog = (e: Error) => {
    throw new Error(`${e.message}\n${output.join("").slice(-6_000)}`);
  };

  beforeAll(async () => {
    tdb = await createTestDatabase("postgres");
    log = await openSampleLog({ url: NATS_URL, prefix, partitions: PARTITIONS }, "omen back-pressure test");
    sink = natsCommitSink(log);
    setCommitSink(sink.sink, sink.outbox);
    // as the web process does in scale-out mode (server/web/main.ts)
    setLogBacklogProbe({ read: () => readLogBacklog(log), maxPending: LIMIT });
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill("SIGCONT");
      worker.kill("SIGKILL");
    }
    setLogBacklogProbe(null);
    setCommitSink(null);
    sink?.close();
    if (log) {
      await destroySampleLog(log);
      await log.close();
    }
    await tdb?.drop();
  });

  it("refuses ingest with 503 + Retry-After while the workers lag beyond the limit, and takes it again once they catch up", async () => {
    worker = spawnScaleOutWorker({ name: "w1", databaseUrl: tdb.url, natsUrl: NATS_URL, prefix, partitions: PARTITIONS, output });
    await waitFor("the worker to own every partition", async () => ((await readWorkerStatus())[0]?.info.partitions as number[] | undefined)?.length === PARTITIONS, 60_000).catch(withLog);

    const t0 = Math.floor(Date.now() / STEP_MS) * STEP_MS - 2_000 * STEP_MS;
    let k = 0;
    let acknowledged = 0;
    /** One request as the remote_write handler runs it: back-pressure check, then ingest. */
    const send = async (): Promise<{ status: number; retryAfter?: string }> => {
      // the reading is cached for 1 s per process; fresh here, so the bound below is exact
      resetIngestCapacityCache();
      const series: IncomingSeries[] = Array.from({ length: STREAMS }, (_, i) => ({
        metric: "backpressure_test",
        labels: { i: String(i) },
        kind: "gauge",
        values: [100 + Math.sin((k + i) / 5)],
        tsMs: [t0 + k * STEP_MS],
      }));
      try {
        await assertIngestCapacity();
        acknowledged += (await ingestSeries("backpressure", "remote_write", series, t0 + k * STEP_MS + 1_000)).received;
        k++;
        return { status: 204 };
      } catch (e) {
        const reply = ingestErrorReply(e, 503);
        return { status: reply.status, retryAfter: reply.headers["Retry-After"] };
      }
    };

    // the worker keeps up: every request accepted
    for (let j = 0; j < 30; j++) expect((await send()).status).toBe(204);

    // frozen worker: accepted until the log holds LIMIT messages it has not taken care of, then 503
    worker.kill("SIGSTOP");
    const frozenAt = k;
    let refusal: { status: number; retryAfter?: string } | null = null;
    for (let j = 0; j < 500 && !refusal; j++) {
      const r = await send();
      if (r.status !== 204) refusal = r;
    }
    const acceptedWhileFrozen = k - frozenAt;
    const atRefusal = await readLogBacklog(log);
    expect(refusal?.status).toBe(503);
    expect(Number(refusal?.retryAfter)).toBeGreaterThan(0);
    // at most one request (a message per partition) past the limit
    expect(atRefusal.pending).toBeGreaterThan(LIMIT);
    expect(atRefusal.pending).toBeLessThanOrEqual(LIMIT + PARTITIONS);
    // further requests are refused too, and the log does not grow
    const before = (await log.jsm.streams.info(log.names.stream)).state.messages;
    let refused = 1;
    for (let j = 0; j < 20; j++) if ((await send()).status === 503) refused++;
    expect(refused).toBe(21);
    expect((await log.jsm.streams.info(log.names.stream)).state.messages).toBe(before);

    // the worker runs again: it catches up and ingest is accepted again
    worker.kill("SIGCONT");
    const resumed = Date.now();
    await waitFor(
      "ingest accepted again",
      async () => {
        if ((await send()).status === 204) return true;
        await sleep(250);
        return false;
      },
      60_000,
    ).catch(withLog);
    const acceptedAfterMs = Date.now() - resumed;
    await waitFor("every acknowledged sample scored", async () => (await readPartitionProgress(log.names.stream)).reduce((a, p) => a + p.scored, 0) >= acknowledged, 60_000).catch(withLog);
    const stored = await countSamples();
    const scored = (await readPartitionProgress(log.names.stream)).reduce((a, p) => a + p.scored, 0);
    console.log(
      `[nats-backpressure] limit ${LIMIT} messages: ${acceptedWhileFrozen} requests accepted while the worker was frozen, then 503 (Retry-After ${refusal?.retryAfter} s) ` +
        `at ${atRefusal.pending} pending; ${refused} requests refused, log unchanged meanwhile; accepted again ${(acceptedAfterMs / 1000).toFixed(1)} s after the worker resumed; ` +
        `acknowledged ${acknowledged}, stored ${stored}, scored ${scored}`,
    );
    expect(stored).toBe(acknowledged);
    expect(scored).toBe(acknowledged);
  });
});
