import os from "node:os";
import type { EnginePort } from "@/lib/detectors/engine-port";
import { partitionOf } from "@/lib/scale/partition";
import { heartbeat, markWorkerStopped } from "../../repos/worker-status-repo";
import { feedbackInAllPartitions, partitionSnapshotTimes, readPartitionProgress, rollbackInAllPartitions } from "../../repos/partition-repo";
import { markFeedbackAppliedUpTo } from "../../repos/feedback-repo";
import { takeSetting } from "../../repos/settings-repo";
import { PartitionLeases, RENEW_EVERY_MS } from "../../nats/partition-leases";
import { LeaderLease } from "../../nats/leader-lease";
import { publishCommand } from "../../nats/commands";
import type { SampleLog } from "../../nats/sample-log";
import type { TWorkerCommand } from "../../services/commands/worker-commands";
import { ConfigReloader } from "../../services/config/config-reload";
import { invalidateSourceCache } from "../../services/ingest/ingest-service";
import { WORKER_REQUEST_KEY, ZWorkerRequest } from "../../services/models/model-service";
import { AlertDispatchJob } from "../jobs/alert-dispatch";
import { collectHost, HostCollector } from "../jobs/host-collector";
import { Predictor } from "../jobs/predictor";
import { PrometheusPullJob } from "../jobs/prometheus-pull";
import { RetentionJob } from "../jobs/retention";
import { JobScheduler, type Job } from "../jobs/scheduler";
import { SAFETY_POLL_MS } from "../worker";
import { PartitionRunner, type PartitionSettings } from "./partition-runner";
import { loadSnapshotSet, readPendingRollback, recordRollback, type PartitionArchive } from "./snapshot-archive";
import { archivePartitions } from "../../repos/snapshot-archive-repo";

export interface PartitionWorkerOptions {
  /** name in worker_status (/api/health) */
  name: string;
  /** how often each partition runner saves its detectors (OMEN_PARTITION_SNAPSHOT_SECONDS) */
  snapshotEveryMs: number;
  /** omen.yaml path (null: none); the leader syncs it into the database */
  configFile?: string | null;
  /** run the host collector (on the leader) */
  hostCollector?: boolean;
  collectIntervalMs?: number;
  /** retention period when omen.yaml sets none */
  retentionMs?: number;
  /** how often the leader keeps a copy of every partition's state as a listed snapshot (rollback targets) */
  archiveEveryMs?: number;
  log?: (msg: string) => void;
}

/** The jobs of a scale-out worker and where each runs (see docs/scale-out.md). */
export const SINGLETON_JOBS = ["alert-dispatch", "retention", "prometheus-pull", "host-collector", "worker-requests", "feedback-applied", "periodic-snapshot"] as const;

/** How long the leader waits for every partition's snapshot before copying them for a manual snapshot. */
const FRESH_SNAPSHOTS_WAIT_MS = 10_000;

/**
 * A scoring worker of the scale-out group (OMEN_NATS_URL): holds leases on a share of the
 * partitions (nats/partition-leases.ts), runs one PartitionRunner per partition it holds, and
 * reports its partitions in its heartbeat. Partitions move between workers as they come and go.
 *
 * Besides scoring, it runs the single worker's jobs (the same job classes): per worker, on the
 * partitions it owns, config reload, feedback and predictions; on the one worker holding the
 * leader lease (nats/leader-lease.ts), the global ones (SINGLETON_JOBS). Web commands arrive on
 * the NATS subject `<prefix>.commands` and run the matching job at once.
 */
export class PartitionWorker {
  readonly id: string;
  private readonly runners = new Map<number, PartitionRunner>();
  private readonly leases: PartitionLeases;
  readonly leader: LeaderLease;
  private timer: NodeJS.Timeout | null = null;
  private leaderTimer: NodeJS.Timeout | null = null;
  private readonly startedAtMs = Date.now();
  private readonly note: (msg: string) => void;
  private lastError: string | null = null;
  private settings: PartitionSettings | null = null;
  private readonly reloader: ConfigReloader;
  private jobs: JobScheduler | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private readonly alerts: AlertDispatchJob;
  /** the snapshot set of the pending rollback, once loaded */
  private rollbackArchive: PartitionArchive | null = null;
  private lastArchiveMs = Date.now();

  constructor(
    private readonly log: SampleLog,
    private readonly opts: PartitionWorkerOptions,
  ) {
    this.note = opts.log ?? ((m) => console.log(`[worker ${opts.name}] ${m}`));
    this.id = `${opts.name}-${process.pid}`.replace(/[^-\w=]/g, "_");
    this.leases = new PartitionLeases(
      log,
      this.id,
      {
        acquired: async (p) => {
          const r = new PartitionRunner(log, p, this.id, this.note, opts.snapshotEveryMs, () => this.settings);
          await r.start();
          this.runners.set(p, r);
          // a rollback announced while nobody owned this partition
          this.jobs?.kick("partition-rollback");
        },
        released: async (p, lost) => {
          const r = this.runners.get(p);
          this.runners.delete(p);
          await r?.stop();
          this.note(`partition ${p} ${lost ? "lost" : "released"}`);
        },
      },
      (m) => {
        this.lastError = m;
        this.note(m);
      },
    );
    this.reloader = new ConfigReloader(
      {
        setSettings: (global, streams, kinds) => {
          this.settings = { global, streams, kinds };
          for (const r of this.runners.values()) r.configure();
        },
        streamIds: () => [...this.runners.values()].flatMap((r) => r.detectors.streamIds()),
        forgetStreams: (ids) => {
          for (const r of this.runners.values()) r.forgetStreams(ids);
        },
      },
      opts.configFile ?? null,
      this.note,
      // this process's ingest (host collector, Prometheus pull) re-resolves its series' streams
      () => invalidateSourceCache(),
    );
    this.reloader.syncFile = false;
    this.leader = new LeaderLease(log.leases, this.id, {
      gained: () => {
        this.reloader.syncFile = true;
        this.note("leader: running the global jobs");
        // what waited for a leader (a request sent while none ran) is done now
        for (const id of SINGLETON_JOBS) this.jobs?.kick(id);
      },
      lost: () => {
        this.reloader.syncFile = false;
        this.note("no longer the leader");
      },
    });
    this.alerts = new AlertDispatchJob(this.note);
  }

  partitions(): number[] {
    return this.leases.partitions();
  }

  async start(): Promise<void> {
    // settings first, so that the first runners start with them
    await this.reloader.run().catch((e: Error) => this.note(`config reload failed: ${e.message}`));
    await this.leader.round().catch((e: Error) => this.note(`leader round failed: ${e.message}`));
    const leaderTick = () => {
      void this.leader
        .round()
        .catch((e: Error) => this.note(`leader round failed: ${e.message}`))
        .finally(() => {
          if (!this.stopped) this.leaderTimer = setTimeout(leaderTick, RENEW_EVERY_MS);
        });
    };
    this.leaderTimer = setTimeout(leaderTick, RENEW_EVERY_MS);
    this.leases.start();
    this.jobs = new JobScheduler(this.jobList(), {
      submit: (round) => {
        this.chain = this.chain.then(round).catch(() => undefined);
      },
      onError: (id, e) => {
        this.lastError = `${id}: ${e.message}`;
        this.note(`job ${id} failed: ${e.stack ?? e.message}`);
      },
    });
    this.jobs.start();
    const tick = async () => {
      for (const r of [...this.runners.values()]) if (r.failed) await this.leases.giveBack(r.partition).catch((e: Error) => this.note(`giving partition ${r.partition} back failed: ${e.message}`));
      for (const r of this.runners.values()) {
        await r.snapshotIfDue().catch((e: Error) => this.note(`snapshot of partition ${r.partition} failed: ${e.message}`));
        await r.writeRows().catch((e: Error) => this.note(`stream rows of partition ${r.partition}: ${e.message}`));
      }
      await this.beat().catch((e: Error) => this.note(`heartbeat failed: ${e.message}`));
      if (!this.stopped) this.timer = setTimeout(() => void tick(), 2_000);
    };
    this.timer = setTimeout(() => void tick(), 500);
  }

  /** The single worker's jobs, split: per worker (its partitions) or on the leader only. */
  private jobList(): Job[] {
    const leaderOnly = (run: () => Promise<unknown>) => () => (this.leader.held ? run() : Promise.resolve());
    const pull = new PrometheusPullJob(this.note);
    const predictor = new Predictor(() => this.detectors());
    const retention = new RetentionJob(() => this.reloader.fileGlobal.retentionMs ?? this.opts.retentionMs ?? 30 * 86_400_000, this.note);
    const collector = new HostCollector();
    const jobs: Job[] = [
      { id: "config-reload", everyMs: 10_000, run: () => this.reloader.run() },
      { id: "feedback", everyMs: SAFETY_POLL_MS, run: () => Promise.all([...this.runners.values()].map((r) => r.applyFeedback())) },
      { id: "predict", everyMs: Predictor.intervalMs, run: () => predictor.run() },
      { id: "alert-dispatch", everyMs: AlertDispatchJob.intervalMs, run: leaderOnly(() => this.alerts.kick()) },
      { id: "retention", everyMs: RetentionJob.intervalMs, run: leaderOnly(() => retention.run()) },
      { id: "prometheus-pull", everyMs: PrometheusPullJob.intervalMs, run: leaderOnly(() => pull.run()) },
      { id: "worker-requests", everyMs: SAFETY_POLL_MS, run: leaderOnly(() => this.handleRequest()) },
      { id: "feedback-applied", everyMs: SAFETY_POLL_MS, run: leaderOnly(() => this.markFeedbackApplied()) },
      { id: "snapshot-partitions", everyMs: 24 * 3_600_000, run: () => this.snapshotAll() },
      { id: "partition-rollback", everyMs: SAFETY_POLL_MS, run: () => this.applyPendingRollback() },
      { id: "periodic-snapshot", everyMs: Math.min(SAFETY_POLL_MS, this.archiveEveryMs), run: leaderOnly(() => this.archiveIfDue()) },
    ];
    if (this.opts.hostCollector) jobs.push({ id: "host-collector", everyMs: this.opts.collectIntervalMs ?? 10_000, run: leaderOnly(() => collectHost(collector, Date.now())) });
    return jobs;
  }

  /** A command from the web app or the leader (NATS `<prefix>.commands`): runs its job now. */
  command(cmd: TWorkerCommand): void {
    const job = {
      request: "worker-requests",
      feedback: "feedback",
      config: "config-reload",
      "snapshot-partitions": "snapshot-partitions",
      "rollback-partitions": "partition-rollback",
    }[cmd.kind];
    this.jobs?.kick(job);
  }

  /** The detectors of every partition this worker owns, as one (for predictions). */
  private detectors(): Pick<EnginePort, "streamIds" | "forecast"> {
    const runners = [...this.runners.values()];
    const n = this.log.config.partitions;
    return {
      streamIds: () => runners.flatMap((r) => r.detectors.streamIds()),
      forecast: (id, horizonMs) => this.runners.get(partitionOf(id, n))?.detectors.forecast(id, horizonMs) ?? null,
    };
  }

  /**
   * Settings → Models requests, on the leader. A snapshot: every worker snapshots its
   * partitions now, and once they have (or after 10 s) the leader copies every partition's
   * state into one listed snapshot. A rollback: the current states are kept first (as
   * `before-rollback`), then the rollback is recorded and announced; each partition's owner
   * restores its partition (applyPendingRollback).
   */
  private async handleRequest(): Promise<void> {
    const raw = await takeSetting(WORKER_REQUEST_KEY);
    if (!raw) return;
    const parsed = ZWorkerRequest.safeParse(JSON.parse(raw));
    if (!parsed.success) return this.note(`ignored malformed worker request: ${raw.slice(0, 200)}`);
    const req = parsed.data;
    const { stream } = this.log.names;
    const partitions = this.log.config.partitions;
    if (req.kind === "snapshot") {
      await this.snapshotEveryPartitionNow();
      const id = await archivePartitions(stream, partitions, "manual");
      this.lastArchiveMs = Date.now();
      return this.note(id === null ? "snapshot request: no partition has learned anything yet" : `snapshot #${id} of every partition taken at ${req.by}'s request`);
    }
    const target = await loadSnapshotSet(req.snapshotId, stream, partitions);
    if ("error" in target) return this.note(`rollback not carried out: ${target.error}`);
    // the state now, kept first (the periodic partition snapshots may be seconds old); its id,
    // new and larger than any before, names the rollback
    await this.snapshotEveryPartitionNow();
    const id = (await archivePartitions(stream, partitions, "before-rollback", true))!;
    this.rollbackArchive = target.archive;
    await recordRollback(stream, { id, snapshotId: req.snapshotId, by: req.by, atMs: req.atMs });
    await publishCommand(this.log, { kind: "rollback-partitions" });
    this.note(`rolling every partition back to snapshot #${req.snapshotId} at ${req.by}'s request (previous state kept as #${id})`);
    await this.applyPendingRollback();
    // once every partition holds it, the restored state is listed too ("after a rollback", as the single worker does)
    const t0 = Date.now();
    while ((await rollbackInAllPartitions(stream)) < id) {
      if (Date.now() - t0 > FRESH_SNAPSHOTS_WAIT_MS) return this.note(`rollback ${id}: not every partition holds it yet; their next owners restore them`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await archivePartitions(stream, partitions, "rollback");
  }

  /** Asks every worker to snapshot its partitions now, and waits until they have (at most 10 s: a partition between two owners has none). */
  private async snapshotEveryPartitionNow(): Promise<void> {
    const { stream } = this.log.names;
    const before = await partitionSnapshotTimes(stream);
    // every partition that has scored anything, snapshotted before or not yet
    const due = new Set([...before.keys(), ...(await readPartitionProgress(stream)).map((p) => p.partition)]);
    await publishCommand(this.log, { kind: "snapshot-partitions" });
    // this worker's own at once (its job chain is busy with this request)
    await this.snapshotAll();
    const t0 = Date.now();
    while (Date.now() - t0 < FRESH_SNAPSHOTS_WAIT_MS) {
      const now = await partitionSnapshotTimes(stream);
      if ([...due].every((p) => (now.get(p) ?? -Infinity) > (before.get(p) ?? -Infinity))) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    this.note("not every partition was snapshotted within 10 s; the older state of the others is used");
  }

  /** Restores the partitions this worker owns that do not hold the recorded rollback yet. */
  private async applyPendingRollback(): Promise<void> {
    const rec = await readPendingRollback(this.log.names.stream);
    if (!rec) return;
    const due = [...this.runners.values()].filter((r) => r.rollbackHeld < rec.id);
    if (!due.length) return;
    if (this.rollbackArchive?.snapshotId !== rec.snapshotId) {
      const loaded = await loadSnapshotSet(rec.snapshotId, this.log.names.stream, this.log.config.partitions);
      if ("error" in loaded) return this.note(`rollback ${rec.id} cannot be carried out here: ${loaded.error}`);
      this.rollbackArchive = loaded.archive;
    }
    // each partition's state read alone, when its turn comes: one partition's bytes in memory at a time
    for (const r of due) {
      let state;
      try {
        state = await this.rollbackArchive.stateOf(r.partition);
      } catch (e) {
        // pruned since (the newest 20 periodic ones are kept): the partition stays as it is
        return this.note(`rollback ${rec.id} cannot be carried out here: ${(e as Error).message}`);
      }
      await r.applyRollback(rec.id, state);
    }
  }

  private get archiveEveryMs(): number {
    return this.opts.archiveEveryMs ?? 300_000;
  }

  /** On the leader: a copy of every partition's state every `archiveEveryMs`, listed as a `periodic` snapshot. */
  private async archiveIfDue(): Promise<void> {
    if (Date.now() - this.lastArchiveMs < this.archiveEveryMs) return;
    this.lastArchiveMs = Date.now();
    await archivePartitions(this.log.names.stream, this.log.config.partitions, "periodic");
  }

  private async snapshotAll(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => r.snapshot(true)));
  }

  /** Feedback rows count as applied once every partition's snapshot holds them. */
  private async markFeedbackApplied(): Promise<void> {
    const upTo = await feedbackInAllPartitions(this.log.names.stream);
    if (upTo > 0) await markFeedbackAppliedUpTo(upTo);
  }

  private async beat(): Promise<void> {
    const progress = await readPartitionProgress(this.log.names.stream);
    const mine = new Set(this.partitions());
    const runners = [...this.runners.values()];
    await heartbeat({
      name: this.opts.name,
      pid: process.pid,
      startedAtMs: this.startedAtMs,
      cursor: 0,
      info: {
        host: os.hostname(),
        nats: true,
        workerId: this.id,
        leader: this.leader.held,
        partitions: [...mine].sort((a, b) => a - b),
        partitionCount: this.log.config.partitions,
        liveWorkers: this.leases.liveWorkers,
        scored: runners.reduce((a, r) => a + r.stats.scored, 0),
        replayed: runners.reduce((a, r) => a + r.stats.replayed, 0),
        lateSamples: runners.reduce((a, r) => a + r.stats.late, 0),
        lateScored: runners.reduce((a, r) => a + r.stats.lateScored, 0),
        feedbackApplied: runners.reduce((a, r) => a + r.stats.feedbackApplied, 0),
        // each owned partition's late counts ride with its cursor: health takes every partition's
        // from its newest report, so a dead owner's last heartbeat is not added to its successor's
        partitionCursors: progress
          .filter((p) => mine.has(p.partition))
          .map((p) => {
            const st = this.runners.get(p.partition)?.stats;
            return { partition: p.partition, msgSeq: p.msgSeq, late: st?.late ?? 0, lateScored: st?.lateScored ?? 0 };
          }),
        jobs: this.jobs?.status().map((j) => ({ id: j.id, runs: j.runs, failures: j.failures, lastError: j.lastError })),
        lastError: this.lastError,
      },
    });
  }

  /** Snapshots and gives back every partition and the leader lease, so the other workers take them at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leaderTimer) clearTimeout(this.leaderTimer);
    await this.jobs?.stop();
    await this.chain;
    await this.alerts.idle();
    await this.leader.release();
    await this.leases.stop();
    // stopped on purpose, not down (see /api/health)
    await markWorkerStopped(this.opts.name).catch((e: Error) => this.note(`could not mark the worker stopped: ${e.message}`));
  }
}
