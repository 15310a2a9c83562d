import os from "node:os";
import { sequenceHead } from "../repos/storage/samples";
import { scoredSeq } from "../repos/storage/scores";
import { acquireWorkerLock, type WorkerLock } from "../repos/worker-lock-repo";
import { resumeRollup } from "./pipeline/resume-rollup";
import { loadSnapshot, saveSnapshot } from "../repos/snapshots-repo";
import { heartbeat, markWorkerStopped } from "../repos/worker-status-repo";
import { ingestSeries, invalidateSourceCache, type IncomingSeries } from "../services/ingest/ingest-service";
import { HandoffQueue, type HandoffEndpoint } from "./handoff";
import type { TProbeRequest, TProbeResult } from "../services/detect/probe-wire";
import { createEngine, withSettings, type ConfiguredEngine } from "../services/detection/engine-adapter";
import { compressState, restoreSnapshot } from "../services/detection/engine-snapshot";
import { takeSetting } from "../repos/settings-repo";
import { WORKER_REQUEST_KEY, ZWorkerRequest } from "../services/models/model-service";
import { DetectPipeline } from "./pipeline/detect-pipeline";
import { collectHost, HostCollector } from "./jobs/host-collector";
import { PrometheusPullJob } from "./jobs/prometheus-pull";
import { AlertDispatchJob } from "./jobs/alert-dispatch";
import { Predictor } from "./jobs/predictor";
import { RetentionJob } from "./jobs/retention";
import { applyPendingFeedback } from "./jobs/feedback";
import { JobScheduler, type Job } from "./jobs/scheduler";
import { env } from "../env";
import { ConfigReloader } from "../services/config/config-reload";
import type { TWorkerCommand } from "../services/commands/worker-commands";

export interface WorkerOptions {
  name: string;
  collectIntervalMs: number;
  hostCollector: boolean;
  snapshotIntervalMs?: number;
  /** omen.yaml path (null: no file sync); saved configuration is reloaded every 10 s either way. */
  configFile?: string | null;
  /** Where this worker accepts hand-offs (server/worker/handoff.ts), published in its heartbeat. */
  handoff?: HandoffEndpoint;
  log?: (msg: string) => void;
  /** Samples per scoring round at most (default: the pipeline's); see `EMBEDDED_BATCH_LIMIT`. */
  batchLimit?: number;
  /**
   * Called when the worker cannot go on (its scoring lock's connection was lost): the process
   * should exit non-zero so that its supervisor starts a fresh one.
   */
  onFatal?: (e: Error) => void;
}

/**
 * Samples per scoring round on the embedded database. PGlite serves one session: a round's
 * write of 100,000 scores and rollups held it for seconds while the worker scored a backlog
 * after a start, and every page and health check waited that long. With a tenth of that the
 * longest wait was under 0.3 s, and the backlog was scored faster (`npm run -s bench:backlog`,
 * docs/architecture.md).
 */
export const EMBEDDED_BATCH_LIMIT = 10_000;

/** With samples waiting, no progress for this long makes the worker report itself stalled. */
const STALL_MS = 30_000;
/**
 * The poll for requests and feedback: a safety net only. The web app sends a command on the
 * hand-off endpoint (`command`), which runs the job at once.
 */
export const SAFETY_POLL_MS = 15_000;

/** The job each web → worker command runs now. */
const JOB_OF_COMMAND: Record<TWorkerCommand["kind"], string | null> = {
  request: "worker-requests",
  feedback: "feedback",
  config: "config-reload",
  "snapshot-partitions": null,
  "rollback-partitions": null,
};

/** Periodic jobs of the background worker; `stop()` finishes the current round and snapshots. */
export class Worker {
  private jobs: JobScheduler | null = null;
  private running = false;
  private busy: Promise<unknown> = Promise.resolve();
  private pipeline!: DetectPipeline;
  /** The pipeline's engine, with the saved configuration applied (set by `start`). */
  private engine!: ConfiguredEngine;
  /**
   * Batches that ingest has just committed (in this process, or handed over by the web process
   * through `startHandoffServer`), for the pipeline to score from memory; each one wakes the
   * detect job. What arrives before start waits here (bounded; the pipeline drops what its
   * cursor has passed).
   */
  readonly handoff = new HandoffQueue(() => this.kickDetect());
  private collector = new HostCollector();
  private readonly startedAtMs = Date.now();
  private readonly log: (msg: string) => void;
  private lastError: string | null = null;
  private lastErrorAtMs: number | null = null;
  private lock: WorkerLock | null = null;
  private beatTimer: NodeJS.Timeout | null = null;
  private lastProgress = { cursor: -1, atMs: Date.now() };
  /** a write failed at shutdown: the final snapshot would record a cursor past unwritten results */
  private unwritten = false;

  constructor(readonly opts: WorkerOptions) {
    this.log = opts.log ?? ((m) => console.log(`[worker] ${m}`));
  }

  async start(): Promise<void> {
    this.lock = await acquireWorkerLock({
      onWait: () => this.log("another worker holds the scoring lock; waiting for it to stop"),
      onLost: (e) => {
        this.running = false;
        this.log(`lost the scoring lock's database connection (${e.message}); stopping`);
        (this.opts.onFatal ?? ((err: Error) => {
          throw err;
        }))(e);
      },
    });
    let engine: ConfiguredEngine | null = null;
    let cursor = 0;
    const snap = await loadSnapshot();
    if (snap) {
      try {
        engine = withSettings(await restoreSnapshot(snap.state));
        cursor = snap.meta.cursor;
        this.log(`restored detector snapshot #${snap.meta.id} (cursor ${cursor})`);
      } catch (e) {
        this.log(`snapshot #${snap.meta.id} could not be restored (${(e as Error).message}); relearning from history`);
      }
    }
    engine ??= withSettings(createEngine());
    this.engine = engine;
    this.pipeline = new DetectPipeline(engine, cursor, undefined, this.opts.batchLimit, await resumeRollup(cursor), this.handoff);
    this.pipeline.log = this.log;
    // what was scored after the snapshot is read again to relearn it; rows stored then are not written twice
    const scored = await scoredSeq();
    this.pipeline.replayUntil = scored;
    this.pipeline.suppressUpTo = scored;
    if (scored > cursor) this.log(`replaying seq ${cursor + 1}…${scored} (scored after the snapshot) to restore the detectors' state`);
    const reloader = new ConfigReloader(
      engine,
      this.opts.configFile === undefined ? env().OMEN_CONFIG_FILE : this.opts.configFile,
      this.log,
      (ids) => {
        this.pipeline.forgetStreams(ids);
        // this process's ingest (host collector, Prometheus pull) re-resolves its series' streams
        invalidateSourceCache();
      },
    );
    this.running = true;
    const pull = new PrometheusPullJob(this.log);
    const predictor = new Predictor(() => this.pipeline.engine);
    const alerts = new AlertDispatchJob(this.log); // runs off the job chain: a slow receiver never delays detection
    const retention = new RetentionJob(() => reloader.fileGlobal.retentionMs ?? env().OMEN_RETENTION_DAYS * 86_400_000, this.log);
    // the heartbeat runs off the job chain: a stuck job (a write retrying) is then reported, not silent
    const beat = () =>
      void this.beat().catch((e: Error) => {
        this.lastError = e.message;
        this.lastErrorAtMs = Date.now();
      });
    beat();
    this.beatTimer = setInterval(beat, 5_000);
    // omen.yaml `global.modelUpdateInterval` (default 5 min) paces the periodic snapshots.
    let lastPeriodic = Date.now();
    const jobs: Job[] = [
      { id: "config-reload", everyMs: 10_000, run: () => reloader.run() },
      ...(this.opts.hostCollector ? [{ id: "host-collector", everyMs: this.opts.collectIntervalMs, run: () => this.collect() }] : []),
      { id: "detect", everyMs: 1_000, run: () => this.detect() },
      { id: "prometheus-pull", everyMs: PrometheusPullJob.intervalMs, run: () => pull.run() },
      { id: "predict", everyMs: Predictor.intervalMs, run: () => predictor.run() },
      { id: "alert-dispatch", everyMs: AlertDispatchJob.intervalMs, run: () => alerts.kick() },
      { id: "retention", everyMs: RetentionJob.intervalMs, run: () => retention.run() },
      { id: "feedback", everyMs: SAFETY_POLL_MS, run: () => this.applyFeedback() },
      { id: "worker-requests", everyMs: SAFETY_POLL_MS, run: () => this.handleRequest() },
      {
        id: "periodic-snapshot",
        everyMs: 10_000,
        run: async () => {
          const interval = reloader.fileGlobal.modelUpdateIntervalMs ?? this.opts.snapshotIntervalMs ?? 300_000;
          if (Date.now() - lastPeriodic < interval) return;
          lastPeriodic = Date.now();
          await this.snapshot("periodic");
        },
      },
    ];
    this.jobs = new JobScheduler(jobs, {
      submit: (round) => this.enqueue(round),
      onError: (id, e) => {
        this.lastError = `${id}: ${e.message}`;
        this.log(`job ${id} failed: ${e.stack ?? e.message}`);
      },
    });
    this.jobs.start();
  }

  /**
   * Scores current values on copies of the live models (the real-time detect API, through the
   * hand-off endpoint): runs between detection steps and changes no model state.
   */
  probe(r: TProbeRequest): TProbeResult[] {
    if (!this.pipeline) return [];
    return this.pipeline.engine.probe?.(r.tsMs, r.ids, Float64Array.from(r.values, (v) => v ?? Number.NaN)) ?? [];
  }

  /** A command from the web app (through the hand-off endpoint): runs its job now. */
  command(cmd: TWorkerCommand): void {
    const job = JOB_OF_COMMAND[cmd.kind];
    if (job && this.running) this.jobs?.kick(job);
  }

  private async collect(): Promise<void> {
    const now = Date.now();
    await collectHost(this.collector, now);
    await ingestSeries("omen", "self", this.selfMetrics(now), now);
  }

  private selfMetrics(now: number): IncomingSeries[] {
    const s = this.pipeline.stats;
    const g = (metric: string, value: number, unit: string): IncomingSeries => ({
      metric,
      labels: { component: "worker" },
      kind: "gauge",
      group: "omen",
      unit,
      tsMs: [now],
      values: [value],
    });
    return [
      g("omen_worker_batch_duration_ms", s.lastBatchMs, "ms"),
      g("omen_worker_samples_read", s.samplesRead, "count"),
      g("omen_process_resident_memory_bytes", process.memoryUsage().rss, "bytes"),
    ];
  }

  /** Runs a job on the worker's one job chain (jobs never overlap); failures are logged. */
  private enqueue(fn: () => Promise<unknown>): void {
    if (!this.running) return;
    this.busy = this.busy.then(fn).catch((e: Error) => {
      this.lastError = e.message;
      this.lastErrorAtMs = Date.now();
      this.log(`job failed: ${e.stack ?? e.message}`);
    });
  }

  private detectQueued = false;

  /**
   * A hand-off arrived: score now rather than at the next 1-s tick (under load the worker then
   * keeps pace with ingest instead of working in 1-s gulps). At most one run is queued.
   */
  private kickDetect(): void {
    if (this.detectQueued || !this.running) return;
    this.detectQueued = true;
    this.enqueue(() => {
      this.detectQueued = false;
      return this.detect();
    });
  }

  private async detect(): Promise<void> {
    // Drain the backlog in bounded batches while new data keeps coming; a batch's writes overlap
    // the next batch's scoring.
    try {
      for (let i = 0; i < 20; i++) {
        const t0 = Date.now();
        const n = await this.pipeline.tick(t0, { overlap: true });
        this.noteBacklog(n, t0);
        if (n === 0) break;
      }
    } finally {
      await this.pipeline.drain(); // a job ends with its scores written (snapshots rely on it)
    }
  }

  /** A backlog being scored (rounds that read a full batch): since when, and how many samples. */
  private backlog: { sinceMs: number; samples: number } | null = null;

  /** Logs a backlog's size and time once it is scored (after a start, an import, an outage). */
  private noteBacklog(n: number, roundStartMs: number): void {
    const full = n >= this.pipeline.batchLimit / 2;
    if (full) {
      this.backlog ??= { sinceMs: roundStartMs, samples: 0 };
      this.backlog.samples += n;
    } else if (this.backlog) {
      const b = this.backlog;
      this.backlog = null;
      const s = (Date.now() - b.sinceMs) / 1000;
      this.log(`scored a backlog of ${b.samples + n} samples in ${s.toFixed(1)} s (${Math.round((b.samples + n) / Math.max(s, 0.001))} samples/s)`);
    }
  }

  private async applyFeedback(): Promise<void> {
    const n = await applyPendingFeedback(this.pipeline.engine);
    if (n) {
      await this.snapshot("feedback");
      this.log(`applied ${n} feedback label(s)`);
    }
  }

  private async beat(): Promise<void> {
    if (!this.running) return;
    const head = await sequenceHead();
    const now = Date.now();
    // the read cursor: results trail it by at most the round being written (a write that keeps
    // failing is reported as `writeRetrying`). Samples held for a later step (the newest step,
    // timestamps ahead of the wall clock) are read and counted in `pendingSamples`, not as lag.
    const cursor = this.pipeline.cursor;
    const lag = Math.max(0, head - cursor);
    if (cursor !== this.lastProgress.cursor || lag === 0) this.lastProgress = { cursor, atMs: now };
    const s = this.pipeline.stats;
    const stalled = s.writeRetrying || (lag > 0 && now - this.lastProgress.atMs > STALL_MS);
    await heartbeat({
      name: this.opts.name,
      pid: process.pid,
      startedAtMs: this.startedAtMs,
      cursor,
      info: {
        host: os.hostname(),
        lag,
        committedCursor: this.pipeline.committedCursor,
        ...s,
        replaying: this.pipeline.replaying,
        lastProgressAtMs: this.lastProgress.atMs,
        stalled,
        handoffHits: this.handoff.hits,
        handoffMisses: this.handoff.misses,
        lastError: s.writeRetrying ? s.lastWriteError : this.lastError,
        lastErrorAtMs: this.lastErrorAtMs,
        handoff: this.opts.handoff,
      },
    });
    // stream rows and health are best-effort and go after the heartbeat
    if (!s.writeRetrying) {
      this.enqueue(async () => {
        await this.pipeline.flushStreamsIfDue();
        await this.pipeline.writeHealth();
      });
    }
  }

  /** Snapshot-now and rollback requests from the web app (Settings → Models). */
  private async handleRequest(): Promise<void> {
    const raw = await takeSetting(WORKER_REQUEST_KEY);
    if (!raw) return;
    const parsed = ZWorkerRequest.safeParse(JSON.parse(raw));
    if (!parsed.success) return this.log(`ignored malformed worker request: ${raw.slice(0, 200)}`);
    const req = parsed.data;
    if (req.kind === "snapshot") {
      const id = await this.snapshot("manual");
      return this.log(`snapshot #${id} taken at ${req.by}'s request`);
    }
    const snap = await loadSnapshot(req.snapshotId);
    if (!snap) return this.log(`rollback: snapshot #${req.snapshotId} no longer exists`);
    const restored = await restoreSnapshot(snap.state);
    const before = await this.snapshot("before-rollback");
    this.engine.replaceState(restored);
    this.pipeline.engineReplaced();
    // Scoring continues from the current cursor: the model's memory goes back, the data does not.
    await this.snapshot("rollback");
    this.log(`rolled the detectors back to snapshot #${snap.meta.id} at ${req.by}'s request (previous state kept as #${before})`);
  }

  async snapshot(reason: string): Promise<number> {
    // state and cursor are taken together, before anything awaits; the cursor stays below the
    // samples read but not scored yet (held-back steps), so a restore reads them again
    const state = this.pipeline.engine.serialize();
    const cursor = this.pipeline.safeCursor();
    // every score up to now is written (jobs run one at a time, a scoring round ends drained);
    // its minutes still open are written too, since a restore from this snapshot does not read
    // those samples again (if this fails, no snapshot is saved)
    await this.pipeline.flushScoreMinutes();
    // compressed on libuv's thread pool (engine-snapshot.ts)
    return saveSnapshot(reason, cursor, await compressState(state));
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.pipeline.stopRetrying();
    await this.jobs?.stop();
    await this.busy;
    await this.pipeline.drain().catch((e: Error) => {
      this.unwritten = true;
      this.log(`results not written at shutdown (${e.message}); they are scored again at the next start`);
    });
    await this.pipeline.writeRollup(true).catch((e: Error) => this.log(`final rollup write failed: ${e.message}`));
    await this.pipeline.flushScoreMinutes().catch((e: Error) => this.log(`final score rollup write failed: ${e.message}`));
    await this.pipeline.flushStreams().catch((e: Error) => this.log(`final stream flush failed: ${e.message}`));
    if (!this.unwritten) await this.snapshot("shutdown").catch((e: Error) => this.log(`final snapshot failed: ${e.message}`));
    // a worker stopped on purpose is not "down": ingest goes on without it (nothing is lost; it
    // scores the backlog when it runs again)
    await markWorkerStopped(this.opts.name).catch((e: Error) => this.log(`could not mark the worker stopped: ${e.message}`));
    await this.lock?.release();
  }
}
