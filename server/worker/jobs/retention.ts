import { deleteExpired } from "../../repos/storage/retention";
import { DAY_MS, dayOf, makeDays } from "../../repos/storage/time-partitions";

/**
 * Drops samples, scores and rollups older than the retention period (omen.yaml
 * `global.retention`, else OMEN_RETENTION_DAYS) before each stream's own newest sample
 * (repos/storage/retention.ts). Anomalies, labels and configuration are kept. First it makes
 * today's and tomorrow's partitions (wall clock, UTC), so live writes find their day made.
 */
export class RetentionJob {
  static readonly intervalMs = 3_600_000;

  constructor(
    private readonly retentionMs: () => number,
    private readonly log: (msg: string) => void,
  ) {}

  async run(nowMs = Date.now()): Promise<Record<string, number>> {
    await makeDays([dayOf(nowMs), dayOf(nowMs + DAY_MS)]);
    const deleted = await deleteExpired(this.retentionMs(), undefined, undefined, nowMs, (d) => {
      // a table held for longer at every run (a session idle in a transaction) would keep every
      // expired day on disk: say so each time
      if (d.gaveWay) this.log(`retention: expired days are due but their tables stayed busy (${d.attempts} attempts, ${(d.waitMs / 1000).toFixed(1)} s waited for their locks); dropping nothing until the next run`);
      else if (d.tables) this.log(`retention: dropped ${d.tables} day tables (locks held ${d.heldMs.toFixed(0)} ms, commit ${d.commitMs.toFixed(0)} ms)`);
    });
    const n = Object.values(deleted).reduce((a, b) => a + b, 0);
    if (n > 0) this.log(`retention: removed ${Object.entries(deleted).map(([t, c]) => `${c} ${t}`).join(", ")}`);
    return deleted;
  }
}
