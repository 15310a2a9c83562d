import type { ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors/app-error";
import { publishCommand } from "../../nats/commands";
import { destroySampleLog, openSampleLog, type SampleLog } from "../../nats/sample-log";
import { natsCommitSink } from "../../nats/commit-publisher";
import { readPartitionProgress, readPartitionSnapshots } from "../../repos/partition-repo";
import { countSamples } from "../../repos/storage/samples";
import { readScores } from "../../repos/storage/scores";
import { describeSnapshot } from "../../repos/snapshot-archive-repo";
import { listSnapshots, saveSnapshot } from "../../repos/snapshots-repo";
import { listStreams } from "../../repos/streams-repo";
import { readWorkerStatus } from "../../repos/worker-status-repo";
import { setCommandSink } from "../../services/commands/worker-commands";
import { setCommitSink } from "../../services/ingest/group-commit";
import { ingestSeries, invalidateSourceCache, type IncomingSeries } from "../../services/ingest/ingest-service";
import { requestRollback, requestSnapshot } from "../../services/models/model-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { readPendingRollback } from "./snapshot-archive";
import { natsUnreachable, spawnScaleOutWorker, waitFor } from "../../testing/scale-out-workers";

/**
 * Settings → Models in scale-out mode (issue 15), two workers on the machine's NATS and
 * PostgreSQL, then on an embedded PGlite: a snapshot copies every partition's state into one
 * listed snapshot, a row per partition (`detector_snapshot_part`); after the
 * detectors learned a new level, rolling back to it makes every partition's owner restore its
 * partition (the expected value falls back to the old level), and rolling back to the
 * `before-rollback` snapshot it kept undoes that. A single worker's snapshot is refused.
 */
const NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const PARTITIONS = 4;
const STREAMS = 16;
const STEP_MS = 10_000;
const CALM = 240;
const SHIFTED = 240;
const prefix = `omen_r_${crypto.randomBytes(4).toString("hex")}`;
// the web side of this process (requestRollback) checks snapshots against the installation's log
process.env.OMEN_NATS_URL = NATS_URL;
process.env.OMEN_NATS_PREFIX = prefix;
process.env.OMEN_PARTITIONS = String(PARTITIONS);

const unreachable = await natsUnreachable(NATS_URL);

/** Stream i's value at step k: a calm wave around `level`. */
const valueAt = (i: number, k: number, level: number) => level + 3 * Math.sin((k + 3 * i) / 5) + (((k * 7 + i * 13) % 11) - 5) * 0.2;

describe.skipIf(Boolean(unreachable)).each(availableBackends())("scale-out snapshot and rollback (Settings → Models with OMEN_NATS_URL) on %s", (backend) => {
  let tdb: TestDatabase;
  let log: SampleLog;
  let sink: ReturnType<typeof natsCommitSink>;
  const workers = new Map<string, ChildProcess>();
  const output: string[] = [];
  const withLog = (e: Error) => {
    throw new Error(`${e.message}\n${output.join("").slice(-6_000)}`);
  };

  const startWorker = (name: string) => {
    const child = spawnScaleOutWorker({ name, databaseUrl: tdb.url, natsUrl: NATS_URL, prefix, partitions: PARTITIONS, output });
    workers.set(name, child);
  };

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    // the source and stream ids cached by the run on the other backend are not in this database
    invalidateSourceCache();
    log = await openSampleLog({ url: NATS_URL, prefix, partitions: PARTITIONS }, "omen scale-out rollback test");
    sink = natsCommitSink(log);
    setCommitSink(sink.sink, sink.outbox);
    // as the web process does in scale-out mode (server/web/main.ts)
    setCommandSink((cmd) => publishCommand(log, cmd));
  });

  afterAll(async () => {
    for (const c of workers.values()) if (c.exitCode === null) c.kill("SIGKILL");
    setCommitSink(null);
    setCommandSink(null);
    sink?.close();
    if (log) {
      await destroySampleLog(log);
      await log.close();
    }
    await tdb?.drop();
  });

  it("snapshots every partition into one listed snapshot, rolls every partition back to it, and undoes the rollback", async () => {
    startWorker("w1");
    startWorker("w2");
    await waitFor(
      "two workers sharing the partitions",
      async () => {
        const rows = await readWorkerStatus();
        return rows.length === 2 && rows.every((w) => ((w.info.partitions as number[] | undefined) ?? []).length === PARTITIONS / 2);
      },
      60_000,
    ).catch(withLog);

    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - (CALM + SHIFTED + 10) * STEP_MS;
    const send = async (from: number, to: number, level: number) => {
      for (let a = from; a < to; a += 60) {
        const ks = Array.from({ length: Math.min(60, to - a) }, (_, j) => a + j);
        const series: IncomingSeries[] = Array.from({ length: STREAMS }, (_, i) => ({
          metric: "rollback_test",
          labels: { instance: `host-${i}` },
          kind: "gauge",
          tsMs: ks.map((k) => t0 + k * STEP_MS),
          values: ks.map((k) => valueAt(i, k, level)),
        }));
        await ingestSeries("rollback-test", "remote_write", series, t0 + to * STEP_MS);
      }
      await waitFor("everything scored", async () => (await readPartitionProgress(log.names.stream)).reduce((n, p) => n + p.scored, 0) >= (await countSamples()), 60_000).catch(withLog);
    };
    const streams = await (async () => {
      await send(0, CALM, 100);
      return listStreams({ search: "rollback_test", limit: 100 });
    })();
    expect(streams.length).toBe(STREAMS);
    /** The mean expected value the detectors gave for step k over every stream. */
    const expectedAt = async (k: number) => {
      let sum = 0;
      for (const s of streams) {
        const [p] = await readScores(s.id, t0 + k * STEP_MS, t0 + k * STEP_MS + 1);
        sum += p!.expected!;
      }
      return sum / streams.length;
    };

    // Settings → Models "Snapshot now": one listed snapshot holding every partition's state
    const partitionsWithData = (await readPartitionProgress(log.names.stream)).length;
    const t = Date.now();
    await requestSnapshot("tester");
    const calmSnap = await waitFor("the manual snapshot", async () => (await listSnapshots()).find((s) => s.reason === "manual"), 30_000).catch(withLog);
    console.log(`[scale-out rollback, ${backend}] manual snapshot #${calmSnap.id} listed ${Date.now() - t} ms after the request (${calmSnap.sizeBytes} bytes)`);
    const holds = await describeSnapshot(calmSnap.id);
    if (holds?.kind !== "partitions" || !holds.set) throw new Error(`snapshot ${calmSnap.id} is not one of the partitions`);
    expect(holds.set.log).toBe(log.names.stream);
    expect(holds.set.partitions).toBe(PARTITIONS);
    expect(holds.set.layout.format).toBe("rows");
    // one row per partition that has learned anything, listed with their total size
    expect(holds.set.parts.map((p) => p.partition)).toEqual((await readPartitionProgress(log.names.stream)).map((p) => p.partition));
    expect(holds.set.parts.length).toBe(partitionsWithData);
    expect(calmSnap.sizeBytes).toBe(holds.set.parts.reduce((a, p) => a + p.sizeBytes, 0));

    // the detectors learn a new level (300)
    await send(CALM, CALM + SHIFTED, 300);
    const adapted = await expectedAt(CALM + SHIFTED - 1);
    expect(adapted).toBeGreaterThan(250);

    // a single worker's snapshot (a bare gzip stream) is refused with the reason
    const single = await saveSnapshot("manual", 0, zlib.gzipSync(Buffer.from("{}")));
    const refused = await requestRollback(single, "tester").catch((e: unknown) => e);
    expect(isAppError(refused) && refused.code === "BAD_REQUEST" && /single worker/.test(refused.message)).toBe(true);

    // roll back to the calm snapshot: every partition's owner restores its partition
    const rollBack = async (snapshotId: number) => {
      const t1 = Date.now();
      await requestRollback(snapshotId, "tester");
      const rec = await waitFor("the rollback to be recorded", async () => {
        const r = await readPendingRollback(log.names.stream);
        return r?.snapshotId === snapshotId ? r : null;
      }, 30_000).catch(withLog);
      await waitFor("every partition to hold the rollback", async () => {
        const snaps = await readPartitionSnapshots(log.names.stream);
        return snaps.length === partitionsWithData && snaps.every((s) => s.rollbackId === rec.id);
      }, 30_000).catch(withLog);
      return { rec, ms: Date.now() - t1 };
    };
    const first = await rollBack(calmSnap.id);
    const before = (await listSnapshots()).find((s) => s.id === first.rec.id)!;
    expect(before.reason).toBe("before-rollback");
    // Settings → Models shows the rollback done when an "after a rollback" snapshot is listed
    await waitFor("the snapshot after the rollback", async () => (await listSnapshots()).find((s) => s.reason === "rollback" && s.id > first.rec.id), 15_000).catch(withLog);
    // the next step at the new level is scored by the calm detectors: they expect the old level
    await send(CALM + SHIFTED, CALM + SHIFTED + 1, 300);
    const rolledBack = await expectedAt(CALM + SHIFTED);
    console.log(`[scale-out rollback, ${backend}] rolled every partition back in ${first.ms} ms; mean expected value ${adapted.toFixed(1)} before, ${rolledBack.toFixed(1)} after`);
    expect(rolledBack).toBeLessThan(150);

    // undo: roll back to the state kept before the rollback
    const undo = await rollBack(before.id);
    expect(undo.rec.id).toBeGreaterThan(first.rec.id);
    await send(CALM + SHIFTED + 1, CALM + SHIFTED + 2, 300);
    const undone = await expectedAt(CALM + SHIFTED + 1);
    console.log(`[scale-out rollback, ${backend}] undone in ${undo.ms} ms; mean expected value ${undone.toFixed(1)}`);
    expect(undone).toBeGreaterThan(250);
  });
});
