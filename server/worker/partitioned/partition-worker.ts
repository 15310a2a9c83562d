import os from "node:os";
import { heartbeat, markWorkerStopped } from "../../repos/worker-status-repo";
import { readPartitionProgress } from "../../repos/partition-repo";
import { PartitionLeases } from "../../nats/partition-leases";
import type { SampleLog } from "../../nats/sample-log";
import { PartitionRunner } from "./partition-runner";

export interface PartitionWorkerOptions {
  /** name in worker_status (/api/health) */
  name: string;
  snapshotEveryMs?: number;
  log?: (msg: string) => void;
}

/**
 * A scoring worker of the scale-out group (OMEN_NATS_URL): holds leases on a share of the
 * partitions (nats/partition-leases.ts), runs one PartitionRunner per partition it holds, and
 * reports its partitions in its heartbeat. Partitions move between workers as they come and go.
 */
export class PartitionWorker {
  readonly id: string;
  private readonly runners = new Map<number, PartitionRunner>();
  private readonly leases: PartitionLeases;
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAtMs = Date.now();
  private readonly note: (msg: string) => void;
  private lastError: string | null = null;

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
          const r = new PartitionRunner(log, p, this.id, this.note, opts.snapshotEveryMs);
          await r.start();
          this.runners.set(p, r);
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
  }

  partitions(): number[] {
    return this.leases.partitions();
  }

  async start(): Promise<void> {
    this.leases.start();
    const tick = async () => {
      for (const r of [...this.runners.values()]) if (r.failed) await this.leases.giveBack(r.partition).catch((e: Error) => this.note(`giving partition ${r.partition} back failed: ${e.message}`));
      for (const r of this.runners.values()) await r.snapshotIfDue().catch((e: Error) => this.note(`snapshot of partition ${r.partition} failed: ${e.message}`));
      await this.beat().catch((e: Error) => this.note(`heartbeat failed: ${e.message}`));
      this.timer = setTimeout(() => void tick(), 2_000);
    };
    this.timer = setTimeout(() => void tick(), 500);
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
        partitions: [...mine].sort((a, b) => a - b),
        partitionCount: this.log.config.partitions,
        liveWorkers: this.leases.liveWorkers,
        scored: runners.reduce((a, r) => a + r.stats.scored, 0),
        replayed: runners.reduce((a, r) => a + r.stats.replayed, 0),
        lateSamples: runners.reduce((a, r) => a + r.stats.late, 0),
        partitionCursors: progress.filter((p) => mine.has(p.partition)).map((p) => ({ partition: p.partition, msgSeq: p.msgSeq })),
        lastError: this.lastError,
      },
    });
  }

  /** Snapshots and gives back every partition, so the other workers take them at once. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.leases.stop();
    // stopped on purpose, not down (see /api/health)
    await markWorkerStopped(this.opts.name).catch((e: Error) => this.note(`could not mark the worker stopped: ${e.message}`));
  }
}
