import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partitionOf } from "@/lib/scale/partition";
import { pool } from "../../db";
import { readPartitionProgress } from "../../repos/partition-repo";
import { listStreams } from "../../repos/streams-repo";
import { readWorkerStatus } from "../../repos/worker-status-repo";
import { readLogBacklog } from "../../nats/log-backlog";
import { healthReport, type HealthReport } from "../../services/health/health-service";
import { ingestSeries, setLogBacklogProbe, type IncomingSeries } from "../../services/ingest/ingest-service";
import { natsUnreachable, openScaleOutWorld, waitFor, type ScaleOutWorld } from "../../testing/scale-out-workers";

/**
 * One stuck partition among busy ones (issue 15's health), on real NATS JetStream and
 * PostgreSQL with a real worker process: while samples arrive for every partition, another
 * session holds partition P's cursor row locked (a long transaction on it, as a stuck
 * maintenance job or a hung connection would), so P's owner hangs in its score write while it
 * keeps its lease and scores the other partitions. The log as a whole progresses, so the
 * whole-log rule sees nothing; /api/health must say `ok: false` and name exactly P in
 * `backlog.stalledPartitions` once P's messages have waited 30 s, and clear once P moves again.
 */
const NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const PARTITIONS = 4;
const STREAMS = 16;
const STEP_MS = 10_000;

const unreachable = await natsUnreachable(NATS_URL);
const hasPostgres = Boolean(process.env.TEST_DATABASE_URL);
if (unreachable) console.log(`[scale-out stall] skipped: NATS at ${NATS_URL} is unreachable (${unreachable}); set TEST_NATS_URL`);
if (!hasPostgres) console.log("[scale-out stall] skipped: needs TEST_DATABASE_URL (PostgreSQL)");

describe.skipIf(Boolean(unreachable) || !hasPostgres)("scale-out health: one stalled partition", () => {
  let world: ScaleOutWorld;
  const fail = (e: Error) => {
    throw new Error(`${e.message}\n${world.output.slice(-40).join("")}`);
  };

  beforeAll(async () => {
    world = await openScaleOutWorld({ natsUrl: NATS_URL, partitions: PARTITIONS, name: "omen scale-out stall test" });
    setLogBacklogProbe({ read: () => readLogBacklog(world.log), maxPending: Number.MAX_SAFE_INTEGER });
  });
  afterAll(async () => {
    setLogBacklogProbe(null);
    await world?.close();
  });

  it("flags exactly the partition whose cursor stays put while the others score, and clears once it moves", async () => {
    world.startWorker("w1");
    await waitFor("w1 to own every partition", async () => ((await readWorkerStatus()).find((w) => w.name === "w1")?.info.partitions as number[] | undefined)?.length === PARTITIONS, 60_000).catch(fail);

    const t0 = Math.floor(Date.now() / STEP_MS) * STEP_MS - 200 * STEP_MS;
    const gauge = (i: number, k: number): IncomingSeries => ({ metric: "stall_scale_out", labels: { instance: `host-${i}` }, kind: "gauge", tsMs: [t0 + k * STEP_MS], values: [50 + i + 5 * Math.sin(k / 4)] });
    let step = 0;
    let acknowledged = 0;
    const sendStep = async () => {
      const k = step++;
      acknowledged += (await ingestSeries("stall-scale-out", "remote_write", Array.from({ length: STREAMS }, (_, i) => gauge(i, k)), t0 + (k + 1) * STEP_MS)).inserted;
    };
    const cursors = async () => new Map((await readPartitionProgress(world.log.names.stream)).map((p) => [p.partition, p.msgSeq]));

    // every partition has streams and a cursor row
    for (let k = 0; k < 3; k++) await sendStep();
    const ids = (await listStreams({ search: "stall_scale_out" })).map((s) => s.id);
    expect(new Set(ids.map((id) => partitionOf(id, PARTITIONS))).size).toBe(PARTITIONS);
    await waitFor("every partition's first scores", async () => (await cursors()).size === PARTITIONS, 60_000).catch(fail);
    await waitFor("health ok with the worker caught up", async () => {
      const h = await healthReport();
      return h.ok && h.backlog?.pendingMessages === 0;
    }, 30_000, 250).catch(fail);

    // another session holds the stuck partition's cursor row
    const stuck = partitionOf(ids[0]!, PARTITIONS);
    const locker = await pool().connect();
    await locker.query("BEGIN");
    await locker.query("SELECT 1 FROM partition_cursor WHERE log = $1 AND partition = $2 FOR UPDATE", [world.log.names.stream, stuck]);
    const before = await cursors();
    const t1 = Date.now();
    let flagged: HealthReport | null = null;
    let lastReport: HealthReport | null = null;
    try {
      // a step a second for every partition, health polled meanwhile, until it names the stuck one (it may not before 30 s)
      while (!flagged && Date.now() - t1 < 75_000) {
        await sendStep();
        lastReport = await healthReport();
        if (lastReport.backlog?.stalledPartitions?.length) flagged = lastReport;
        await new Promise((r) => setTimeout(r, 1_000));
      }
      const stalledAfterMs = Date.now() - t1;
      if (!flagged) throw new Error(`health never flagged partition ${stuck}; last report: ${JSON.stringify({ ok: lastReport?.ok, problems: lastReport?.problems, backlog: lastReport?.backlog })}`);
      console.log(`[scale-out stall] partition ${stuck} flagged ${(stalledAfterMs / 1000).toFixed(1)} s after its cursor row was locked: ${JSON.stringify(flagged.backlog?.stalledPartitions)}; problems ${JSON.stringify(flagged.problems)}`);
      expect(stalledAfterMs).toBeGreaterThanOrEqual(30_000);
      expect(flagged.ok).toBe(false);
      expect(flagged.backlog?.stalledPartitions?.map((s) => s.partition)).toEqual([stuck]);
      expect(flagged.backlog!.stalledPartitions![0]!.pending).toBeGreaterThan(0);
      expect(flagged.problems.join("\n")).toContain(`partition ${stuck} (`);
      expect(flagged.problems.join("\n")).toContain("owner w1");
      // the other partitions scored meanwhile, the stuck one did not
      const during = await cursors();
      for (let p = 0; p < PARTITIONS; p++) {
        if (p === stuck) expect(during.get(p)).toBe(before.get(p));
        else expect(during.get(p)!).toBeGreaterThan(before.get(p)!);
      }
    } finally {
      await locker.query("ROLLBACK");
      locker.release();
    }

    // the lock gone, the partition scores its backlog: health clears
    await sendStep();
    const cleared = await waitFor("health to clear the stalled partition", async () => {
      const h = await healthReport();
      return h.ok && h.backlog?.stalledPartitions?.length === 0 ? h : null;
    }, 30_000, 250).catch(fail);
    expect(cleared.problems).toEqual([]);
    expect((await cursors()).get(stuck)!).toBeGreaterThan(before.get(stuck)!);
    // and nothing was lost or scored twice on the way
    await waitFor("every acknowledged sample scored", async () => (await readPartitionProgress(world.log.names.stream)).reduce((a, p) => a + p.scored, 0) >= acknowledged, 60_000).catch(fail);
    expect((await readPartitionProgress(world.log.names.stream)).reduce((a, p) => a + p.scored, 0)).toBe(acknowledged);
  });
});
