import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partitionOf } from "@/lib/scale/partition";
import { decodeSamples } from "@/lib/scale/sample-message";
import { pool } from "../../db";
import { readPartitionProgress } from "../../repos/partition-repo";
import { readScores } from "../../repos/storage/scores";
import { listStreams } from "../../repos/streams-repo";
import { readWorkerStatus } from "../../repos/worker-status-repo";
import { readLogBacklog } from "../../nats/log-backlog";
import { healthReport } from "../../services/health/health-service";
import { ingestSeries, setLogBacklogProbe, type IncomingSeries } from "../../services/ingest/ingest-service";
import { natsUnreachable, openScaleOutWorld, waitFor, type ScaleOutWorld } from "../../testing/scale-out-workers";

/**
 * Late samples in scale-out mode (issue 14): samples of a step their partition has scored
 * already (a remote_write shard that lags the others) are scored, once each, as the single
 * worker scores them (`EngineAdapter.scoreLate`), by a real worker process on real NATS
 * JetStream and PostgreSQL; neither a copy of a message the log holds twice nor a kill -9 and
 * a new owner replaying the partitions write any of them again. /api/health's backlog counts them (also after the partitions moved to the new
 * owner: the counts are kept with the partition cursors), and the sample log's pending
 * messages (0 once the workers caught up, more while the partitions' owner is gone).
 */
const NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const PARTITIONS = 2;
const STREAMS = 12;
const STEPS = 60;
const STEP_MS = 10_000;
/** the lagging streams' steps that arrive after their partition has scored past them */
const LAG_FROM = 20;
const LAG_TO = 40;

const unreachable = await natsUnreachable(NATS_URL);
const hasPostgres = Boolean(process.env.TEST_DATABASE_URL);
if (unreachable) console.log(`[scale-out late] skipped: NATS at ${NATS_URL} is unreachable (${unreachable}); set TEST_NATS_URL`);
if (!hasPostgres) console.log("[scale-out late] skipped: needs TEST_DATABASE_URL (PostgreSQL)");

/** Per stored sample of the test's streams: how many score rows it has (0, 1, or more). */
async function scoreRowsPerSample(): Promise<{ samples: number; unscored: number; once: number; more: number }> {
  const res = await pool().query<{ samples: number; unscored: number; once: number; more: number }>(
    `WITH s AS (
       SELECT x.stream_id, x.ts, (SELECT count(*) FROM score_block b WHERE b.block = x.stream_id / 32 AND b.ts = x.ts AND b.mask & (1 << (x.stream_id % 32)) <> 0) AS rows
       FROM sample x JOIN stream st ON st.id = x.stream_id WHERE st.metric = 'late_scale_out')
     SELECT count(*)::int AS samples, count(*) FILTER (WHERE rows = 0)::int AS unscored,
            count(*) FILTER (WHERE rows = 1)::int AS once, count(*) FILTER (WHERE rows > 1)::int AS more FROM s`,
  );
  return res.rows[0]!;
}

/** The test's stored samples against their 1-minute rollup rows: each sample must be folded in once. */
async function rollupAgainstStored(): Promise<{ stored: number; storedSum: number; rolled: number; rolledSum: number }> {
  const res = await pool().query<{ stored: number; stored_sum: number; rolled: number; rolled_sum: number }>(
    `SELECT (SELECT count(*)::int FROM sample x JOIN stream st ON st.id = x.stream_id WHERE st.metric = 'late_scale_out') AS stored,
            (SELECT sum(x.value)::float8 FROM sample x JOIN stream st ON st.id = x.stream_id WHERE st.metric = 'late_scale_out') AS stored_sum,
            (SELECT sum(r.count)::int FROM sample_rollup_1m r JOIN stream st ON st.id = r.stream_id WHERE st.metric = 'late_scale_out') AS rolled,
            (SELECT sum(r.sum)::float8 FROM sample_rollup_1m r JOIN stream st ON st.id = r.stream_id WHERE st.metric = 'late_scale_out') AS rolled_sum`,
  );
  const r = res.rows[0]!;
  return { stored: r.stored, storedSum: r.stored_sum, rolled: r.rolled, rolledSum: r.rolled_sum };
}

function expectRollupExact(r: Awaited<ReturnType<typeof rollupAgainstStored>>): void {
  expect(r.rolled).toBe(r.stored);
  expect(r.rolledSum).toBeCloseTo(r.storedSum, 6);
}

describe.skipIf(Boolean(unreachable) || !hasPostgres)("scale-out late samples on NATS JetStream", () => {
  let world: ScaleOutWorld;
  const startWorker = (name: string) => world.startWorker(name);
  const scoredRows = async () => (await readPartitionProgress(world.log.names.stream)).reduce((a, p) => a + p.scored, 0);
  const fail = (e: Error) => {
    throw new Error(`${e.message}\n${world.output.join("")}`);
  };

  beforeAll(async () => {
    world = await openScaleOutWorld({ natsUrl: NATS_URL, partitions: PARTITIONS, name: "omen scale-out late test" });
    // as the web process does in scale-out mode (no back-pressure limit here)
    setLogBacklogProbe({ read: () => readLogBacklog(world.log), maxPending: Number.MAX_SAFE_INTEGER });
  });
  afterAll(async () => {
    setLogBacklogProbe(null);
    await world?.close();
  });
  /** /api/health's backlog once `ok` holds for it (reports are up to a few seconds old). */
  const backlogOnce = (what: string, ok: (b: NonNullable<Awaited<ReturnType<typeof healthReport>>["backlog"]>) => boolean) =>
    waitFor(
      what,
      async () => {
        const b = (await healthReport()).backlog;
        return b && ok(b) ? b : null;
      },
      30_000,
      250,
    ).catch(fail);

  it("scores each late sample once, and a new owner's replay writes none of them again", async () => {
    startWorker("w1");
    await waitFor("w1 to own every partition", async () => ((await readWorkerStatus()).find((w) => w.name === "w1")?.info.partitions as number[] | undefined)?.length === PARTITIONS, 60_000).catch(fail);

    const t0 = Math.floor(Date.now() / STEP_MS) * STEP_MS - (STEPS + 10) * STEP_MS;
    const value = (i: number, k: number) => 50 + i + 5 * Math.sin((k + 3 * i) / 6);
    const gauge = (i: number, steps: number[], v = (k: number) => value(i, k)): IncomingSeries => ({
      metric: "late_scale_out",
      labels: { instance: `host-${i}` },
      kind: "gauge",
      tsMs: steps.map((k) => t0 + k * STEP_MS),
      values: steps.map(v),
    });
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
    let acknowledged = 0;
    const send = async (series: IncomingSeries[], nowMs: number) => (acknowledged += (await ingestSeries("late-scale-out", "remote_write", series, nowMs)).inserted);

    // step 0 creates the streams; in each partition every second stream lags (so each partition has a clock ahead of it)
    await send(range(0, STREAMS).map((i) => gauge(i, [0])), t0 + STEP_MS);
    const ids = new Map((await listStreams({ search: "late_scale_out" })).map((s) => [s.labels.instance!, s.id]));
    const byPartition = new Map<number, number[]>();
    for (let i = 0; i < STREAMS; i++) {
      const p = partitionOf(ids.get(`host-${i}`)!, PARTITIONS);
      byPartition.set(p, [...(byPartition.get(p) ?? []), i]);
    }
    const lagging = new Set([...byPartition.values()].flatMap((list) => list.filter((_, k) => k % 2 === 1)));
    expect([...byPartition.values()].every((list) => list.length >= 2)).toBe(true);

    // steps 1-59 as they arrive, ten a request; the lagging streams' steps 20-39 are held back
    for (let c = 1; c < STEPS; c += 10) {
      const steps = range(c, Math.min(STEPS, c + 10));
      await send(
        range(0, STREAMS).map((i) => gauge(i, lagging.has(i) ? steps.filter((k) => k < LAG_FROM || k >= LAG_TO) : steps)),
        t0 + (c + 11) * STEP_MS,
      );
    }
    await waitFor("the on-time samples scored", async () => (await scoredRows()) >= acknowledged, 60_000).catch(fail);

    // the held-back steps arrive, with an off-grid sample between two scored ones of an on-time stream
    const onTime = range(0, STREAMS).find((i) => !lagging.has(i))!;
    const lateCount = lagging.size * (LAG_TO - LAG_FROM) + 1;
    await send(
      [...[...lagging].map((i) => gauge(i, range(LAG_FROM, LAG_TO))), { ...gauge(onTime, [0], () => 500), tsMs: [t0 + 40 * STEP_MS + 5_000] }],
      t0 + (STEPS + 5) * STEP_MS,
    );
    expect(acknowledged).toBe(STREAMS * STEPS - lagging.size * (LAG_TO - LAG_FROM) + lateCount);
    await waitFor("every acknowledged sample scored", async () => (await scoredRows()) >= acknowledged, 60_000).catch(fail);
    const lateStats = await waitFor(
      "the worker's heartbeat counting the late samples",
      async () => {
        const info = (await readWorkerStatus()).find((w) => w.name === "w1")?.info;
        return info && info.lateScored === lateCount ? { late: info.lateSamples, scored: info.lateScored } : null;
      },
      15_000,
    ).catch(fail);
    expect(lateStats).toEqual({ late: lateCount, scored: lateCount });
    // health: the late counts, and no pending message once everything is scored (acked with its scores)
    const caughtUp = await backlogOnce("health's backlog with nothing pending", (b) => b.pendingMessages === 0 && b.lateScored === lateCount);
    expect(caughtUp).toMatchObject({ rows: null, pendingMessages: 0, lateSamples: lateCount, lateScored: lateCount });
    let rows = await scoreRowsPerSample();
    expectRollupExact(await rollupAgainstStored());
    console.log(`[scale-out late] acknowledged ${acknowledged}, late ${lateCount}; per stored sample: ${JSON.stringify(rows)}`);
    expect(rows).toEqual({ samples: acknowledged, unscored: 0, once: acknowledged, more: 0 });
    // the off-grid 500 on a stream around 50-70 scores above its neighbours
    const around = await readScores(ids.get(`host-${onTime}`)!, t0 + 39 * STEP_MS, t0 + 42 * STEP_MS);
    const score = (tsMs: number) => around.find((p) => p.t === tsMs)?.score;
    expect(score(t0 + 40 * STEP_MS + 5_000)).toBeGreaterThan(score(t0 + 40 * STEP_MS)!);

    // a message the log holds twice (published again after JetStream's 2-min duplicate window, as
    // an outbox take-over long after its owner died can): the copy's samples are late, and scored already
    const original = (await world.log.jsm.streams.getMessage(world.log.names.stream, { seq: 3 }))!;
    const copied = decodeSamples(original.data)!.streamIds.length;
    await world.log.js.publish(original.subject, original.data);
    await waitFor(
      "the worker to count the copy's samples as late",
      async () => (await readWorkerStatus()).find((w) => w.name === "w1")?.info.lateSamples === lateCount + copied,
      15_000,
    ).catch(fail);
    rows = await scoreRowsPerSample();
    expect(rows).toEqual({ samples: acknowledged, unscored: 0, once: acknowledged, more: 0 });
    expect(await scoredRows()).toBe(acknowledged);
    // nor folded into the 1-minute sample rollup again (written by the same transaction as the late counts)
    const rollup = await rollupAgainstStored();
    console.log(`[scale-out late] after a copy of ${copied} samples: stored ${rollup.stored} (sum ${rollup.storedSum.toFixed(3)}), rollup ${rollup.rolled} (sum ${rollup.rolledSum.toFixed(3)})`);
    expectRollupExact(rollup);

    // kill -9 and a new owner: it replays the partitions from their snapshots and writes nothing again
    world.workers.get("w1")!.kill("SIGKILL");
    // w2 starts at once; it takes the partitions when w1's leases expire (up to 15 s)
    startWorker("w2");
    // messages published while the partitions have no owner are pending
    await send(range(0, STREAMS).map((i) => gauge(i, [STEPS])), t0 + (STEPS + 6) * STEP_MS);
    const waiting = await backlogOnce("health's backlog counting the ownerless partitions' messages", (b) => (b.pendingMessages ?? 0) > 0);
    console.log(`[scale-out late] pending while no worker runs: ${JSON.stringify(waiting)}`);
    const unscored = (await readLogBacklog(world.log)).pending;
    // The new owner relearns what w1 scored (w1 saved no snapshot: the whole log) before it
    // scores. Held inside that replay (its first read of the stream table waits on a lock taken
    // once w2 is up, before it owns anything), the log's backlog is still only the messages not
    // scored yet: a replay is not work waiting (before the replay had a reader of its own, apart
    // from the durable consumer, it counted every replayed message).
    await waitFor("w2 up, owning nothing yet", async () => {
      const w2 = (await readWorkerStatus()).find((w) => w.name === "w2");
      return w2 !== undefined && ((w2.info.partitions as number[] | undefined) ?? []).length === 0;
    }, 15_000).catch(fail);
    const locker = await pool().connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE stream IN ACCESS EXCLUSIVE MODE");
      await waitFor(
        "both partitions' replays to wait on the stream table",
        async () => (await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query = 'SELECT id, kind::text AS kind FROM stream'")).rows[0]!.n >= PARTITIONS,
        30_000,
      ).catch(fail);
      const duringReplay = await readLogBacklog(world.log);
      console.log(`[scale-out late] not scored before w2 took over: ${unscored} message(s); during w2's replay: ${duringReplay.pending}`);
      expect(duringReplay.pending).toBe(unscored);
    } finally {
      await locker.query("ROLLBACK").catch(() => undefined);
      locker.release();
    }
    await waitFor("w2 to own every partition", async () => ((await readWorkerStatus()).find((w) => w.name === "w2")?.info.partitions as number[] | undefined)?.length === PARTITIONS, 60_000).catch(fail);
    await new Promise((r) => setTimeout(r, 3_000));
    rows = await scoreRowsPerSample();
    expect(rows).toEqual({ samples: acknowledged, unscored: 0, once: acknowledged, more: 0 });
    expect(await scoredRows()).toBe(acknowledged);
    // the late counts moved with the partitions (kept with their cursors), and the replay counted none again
    const moved = await waitFor(
      "w2's heartbeat",
      async () => {
        const info = (await readWorkerStatus()).find((w) => w.name === "w2")?.info;
        return info && typeof info.lateSamples === "number" ? { late: info.lateSamples, scored: info.lateScored } : null;
      },
      15_000,
    ).catch(fail);
    expect(moved).toEqual({ late: lateCount + copied, scored: lateCount });
    expectRollupExact(await rollupAgainstStored());
    const after = await backlogOnce("health's backlog with nothing pending after the new owner caught up", (b) => b.pendingMessages === 0);
    expect(after).toMatchObject({ lateSamples: lateCount + copied, lateScored: lateCount, stalledPartitions: [] });
  });
});
