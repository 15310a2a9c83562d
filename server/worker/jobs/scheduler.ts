/**
 * The worker's periodic jobs, declared as data (`{ id, everyMs, run }`) and run by one
 * scheduler: each job runs once at start and then every `everyMs`. A failed round is reported
 * (`onError`, `status()`) and the job keeps its schedule; the other jobs never notice.
 *
 * Rounds go through `submit`, which the worker points at its one job chain so that rounds never
 * overlap. A job that is already waiting on that chain is not queued again: a slow job delays
 * the next round of the others, but the chain never grows without bound.
 */
export interface Job {
  /** Stable kebab-case name, used in logs and in `status()`. */
  id: string;
  everyMs: number;
  run: () => Promise<unknown>;
}

export interface JobStatus {
  id: string;
  everyMs: number;
  runs: number;
  failures: number;
  lastError: string | null;
  lastStartMs: number | null;
  lastDurationMs: number | null;
}

export interface JobSchedulerOptions {
  /** Reported once per failed round; the job keeps its schedule. */
  onError: (jobId: string, error: Error) => void;
  /** Where a round runs (default: at once). The worker passes its job chain. */
  submit?: (round: () => Promise<void>) => void;
  now?: () => number;
}

interface Slot {
  job: Job;
  status: JobStatus;
  /** submitted and not begun yet */
  queued: boolean;
  timer: NodeJS.Timeout | null;
}

export class JobScheduler {
  private readonly slots: Slot[];
  private readonly inFlight = new Set<Promise<void>>();
  private started = false;
  private stopped = false;

  constructor(
    jobs: readonly Job[],
    private readonly opts: JobSchedulerOptions,
  ) {
    const ids = new Set<string>();
    for (const job of jobs) {
      if (ids.has(job.id)) throw new Error(`job "${job.id}" is declared twice`);
      ids.add(job.id);
      if (!Number.isFinite(job.everyMs) || job.everyMs < 1) throw new Error(`job "${job.id}": everyMs must be a positive number of milliseconds (got ${job.everyMs})`);
    }
    this.slots = jobs.map((job) => ({
      job,
      status: { id: job.id, everyMs: job.everyMs, runs: 0, failures: 0, lastError: null, lastStartMs: null, lastDurationMs: null },
      queued: false,
      timer: null,
    }));
  }

  /** Runs every job once now, then each at its period. */
  start(): void {
    if (this.started) throw new Error("job scheduler already started");
    this.started = true;
    for (const slot of this.slots) {
      this.tick(slot);
      slot.timer = setInterval(() => this.tick(slot), slot.job.everyMs);
    }
  }

  /** Schedules no more rounds, drops rounds not begun yet, and waits for the ones running. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const slot of this.slots) {
      if (slot.timer) clearInterval(slot.timer);
      slot.timer = null;
    }
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Runs job `id` now, off its schedule (a command from the web app: "look now"), unless a round
   * of it is already waiting. Returns false for an unknown job.
   */
  kick(id: string): boolean {
    const slot = this.slots.find((s) => s.job.id === id);
    if (!slot || !this.started) return false;
    this.tick(slot);
    return true;
  }

  status(): JobStatus[] {
    return this.slots.map((s) => ({ ...s.status }));
  }

  private tick(slot: Slot): void {
    if (this.stopped || slot.queued) return;
    slot.queued = true;
    const submit = this.opts.submit ?? ((round: () => Promise<void>) => void round());
    submit(() => this.round(slot));
  }

  private round(slot: Slot): Promise<void> {
    slot.queued = false;
    if (this.stopped) return Promise.resolve();
    const now = this.opts.now ?? Date.now;
    const { status } = slot;
    const startMs = now();
    status.lastStartMs = startMs;
    const done = (async () => {
      try {
        await slot.job.run();
        status.lastError = null;
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        status.failures++;
        status.lastError = error.message;
        try {
          this.opts.onError(slot.job.id, error);
        } catch {
          /* a failing reporter must not stop the schedule */
        }
      } finally {
        status.runs++;
        status.lastDurationMs = now() - startMs;
      }
    })();
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    return done;
  }
}
