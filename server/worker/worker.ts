import os from "node:os";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { markFeedbackApplied, pendingFeedback } from "../repos/feedback-repo";
import { sequenceHead } from "../repos/samples-repo";
import { flushScoreMinutes } from "../repos/scores-repo";
import { resumeRollup } from "./pipeline/resume-rollup";
import { loadSnapshot, saveSnapshot } from "../repos/snapshots-repo";
import { heartbeat } from "../repos/worker-status-repo";
import { ingestSeries, type IncomingSeries } from "../services/ingest/ingest-service";
import type { CommittedBatch } from "@/lib/ingest/committed-batch";
import type { HandoffEndpoint } from "./handoff/protocol";
import { createEngine, restoreEngine } from "./pipeline/engine-adapter";
import { takeSetting } from "../repos/settings-repo";
import { WORKER_REQUEST_KEY, ZWorkerRequest } from "../services/models/model-service";
import { DetectPipeline } from "./pipeline/detect-pipeline";
import { HostCollector } from "./jobs/host-collector";
import { PrometheusPullJob } from "./jobs/prometheus-pull";
import { AlertDispatchJob } from "./jobs/alert-dispatch";
import { Predictor } from "./jobs/predictor";
import { RetentionJob } from "./jobs/retention";
import { JobScheduler, type Job } from "./jobs/scheduler";
import { env } from "../env";
import { ConfiguredEngine } from "../services/config/configured-engine";
import { ConfigReloader } from "../services/config/config-reload";

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

export interface WorkerOptions {
  name: string;
  collectIntervalMs: number;
  hostCollector: boolean;
  snapshotIntervalMs?: number;
  /** omen.yaml path (null: no file sync); saved configuration is reloaded every 10 s either way. */
  configFile?: string | null;
  /** Where this worker accepts hand-offs (server/worker/handoff), published in its heartbeat. */
  handoff?: HandoffEndpoint;
  log?: (msg: string) => void;
}

/** Periodic jobs of the background worker; `stop()` finishes the current round and snapshots. */
export class Worker {
  private jobs: JobScheduler | null = null;
  private running = false;
  private busy: Promise<unknown> = Promise.resolve();
  private pipeline!: DetectPipeline;
  private collector = new HostCollector();
  private readonly startedAtMs = Date.now();
  private readonly log: (msg: string) => void;
  private lastError: string | null = null;

  constructor(readonly opts: WorkerOptions) {
    this.log = opts.log ?? ((m) => console.log(`[worker] ${m}`));
  }

  async start(): Promise<void> {
    let engine: ConfiguredEngine | null = null;
    let cursor = 0;
    const snap = await loadSnapshot();
    if (snap) {
      try {
        engine = new ConfiguredEngine(restoreEngine(await gunzip(snap.state)));
        cursor = snap.meta.cursor;
        this.log(`restored detector snapshot #${snap.meta.id} (cursor ${cursor})`);
      } catch (e) {
        this.log(`snapshot #${snap.meta.id} could not be restored (${(e as Error).message}); relearning from history`);
      }
    }
    engine ??= new ConfiguredEngine(createEngine());
    this.pipeline = new DetectPipeline(engine, cursor, undefined, undefined, await resumeRollup(cursor));
    const reloader = new ConfigReloader(
      this.pipeline.engine as ConfiguredEngine,
      this.opts.configFile === undefined ? env().OMEN_CONFIG_FILE : this.opts.configFile,
      this.log,
    );
    this.running = true;
    const pull = new PrometheusPullJob(this.log);
    const predictor = new Predictor(() => this.pipeline.engine);
    const alerts = new AlertDispatchJob(this.log); // runs off the job chain: a slow receiver never delays detection
    const retention = new RetentionJob(() => reloader.fileGlobal.retentionMs ?? env().OMEN_RETENTION_DAYS * 86_400_000, this.log);
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
      { id: "feedback", everyMs: 5_000, run: () => this.applyFeedback() },
      { id: "worker-requests", everyMs: 2_000, run: () => this.handleRequest() },
      { id: "heartbeat", everyMs: 5_000, run: () => this.beat() },
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
   * A batch that ingest has just committed (in this process, or handed over by the web
   * process): the pipeline scores it from memory. Dropped before start and after stop.
   */
  acceptCommitted(batch: CommittedBatch): void {
    if (!this.running) return;
    this.pipeline.handoff.offer(batch);
    this.kickDetect();
  }

  private async collect(): Promise<void> {
    const now = Date.now();
    const series = await this.collector.collect(now);
    if (series.length) await ingestSeries(`host:${this.collector.host}`, "host", series, now);
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
        const n = await this.pipeline.tick(Date.now(), { overlap: true });
        if (n === 0) break;
      }
    } finally {
      await this.pipeline.drain(); // a job ends with its scores written (snapshots rely on it)
    }
  }

  private async applyFeedback(): Promise<void> {
    const items = await pendingFeedback();
    for (const f of items) {
      for (const id of f.streamIds) this.pipeline.engine.applyFeedback(id, f.label, f.startMs, f.endMs);
    }
    if (items.length) {
      await markFeedbackApplied(items.map((f) => f.id));
      await this.snapshot("feedback");
      this.log(`applied ${items.length} feedback label(s)`);
    }
  }

  private async beat(): Promise<void> {
    await this.pipeline.flushStreamsIfDue();
    await this.pipeline.writeHealth();
    const head = await sequenceHead();
    await heartbeat({
      name: this.opts.name,
      pid: process.pid,
      startedAtMs: this.startedAtMs,
      cursor: this.pipeline.cursor,
      info: {
        host: os.hostname(),
        lag: head - this.pipeline.cursor,
        ...this.pipeline.stats,
        handoffHits: this.pipeline.handoff.hits,
        handoffMisses: this.pipeline.handoff.misses,
        lastError: this.lastError,
        handoff: this.opts.handoff,
      },
    });
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
    const restored = restoreEngine(await gunzip(snap.state));
    const before = await this.snapshot("before-rollback");
    (this.pipeline.engine as ConfiguredEngine).swapInner(restored);
    this.pipeline.engineReplaced();
    // Scoring continues from the current cursor: the model's memory goes back, the data does not.
    await this.snapshot("rollback");
    this.log(`rolled the detectors back to snapshot #${snap.meta.id} at ${req.by}'s request (previous state kept as #${before})`);
  }

  async snapshot(reason: string): Promise<number> {
    // state and cursor are taken together, before anything awaits
    const state = this.pipeline.engine.serialize();
    const cursor = this.pipeline.cursor;
    // compressed on libuv's thread pool: with 20,000 streams (~185 MB of state) a synchronous
    // gzip held the worker's event loop for ~2 s at every periodic snapshot
    return saveSnapshot(reason, cursor, await gzip(state));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.jobs?.stop();
    await this.busy;
    await this.pipeline.writeRollup(true).catch((e: Error) => this.log(`final rollup write failed: ${e.message}`));
    await flushScoreMinutes().catch((e: Error) => this.log(`final score rollup write failed: ${e.message}`));
    await this.pipeline.flushStreams().catch((e: Error) => this.log(`final stream flush failed: ${e.message}`));
    await this.snapshot("shutdown").catch((e: Error) => this.log(`final snapshot failed: ${e.message}`));
  }
}
