import { dispatchAlerts, type DispatchStats } from "../../services/alerts/dispatch-service";

/**
 * Worker job: one alert-dispatch round every 5 s, off the worker's job chain so a slow or dead
 * receiver never delays detection. Overlapping rounds are skipped; failures are logged, not thrown.
 */
export class AlertDispatchJob {
  static readonly intervalMs = 5_000;
  private running: Promise<void> | null = null;
  lastStats: DispatchStats | null = null;

  constructor(private readonly log: (msg: string) => void) {}

  /** Starts a round in the background unless one is still running; resolves at once. */
  kick(): Promise<void> {
    this.running ??= this.run()
      .then(() => undefined)
      .catch((e: Error) => this.log(`alert dispatch failed: ${e.message}`))
      .finally(() => {
        this.running = null;
      });
    return Promise.resolve();
  }

  async run(nowMs = Date.now()): Promise<DispatchStats> {
    const stats = await dispatchAlerts({ nowMs, log: this.log });
    this.lastStats = stats;
    if (stats.sent || stats.failed || stats.suppressed) {
      this.log(`alerts: ${stats.sent} sent, ${stats.failed} failed, ${stats.suppressed} suppressed (${stats.enqueued} queued)`);
    }
    return stats;
  }

  /** Waits for a round in flight (graceful shutdown). */
  async idle(): Promise<void> {
    await this.running;
  }
}
