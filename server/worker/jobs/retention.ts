import { deleteExpired } from "../../repos/storage/retention";

/**
 * Drops samples, scores and rollups older than the retention period (omen.yaml
 * `global.retention`, else OMEN_RETENTION_DAYS) before each stream's own newest sample
 * (retention-repo.ts). Anomalies, labels and configuration are kept.
 */
export class RetentionJob {
  static readonly intervalMs = 3_600_000;

  constructor(
    private readonly retentionMs: () => number,
    private readonly log: (msg: string) => void,
  ) {}

  async run(): Promise<Record<string, number>> {
    const deleted = await deleteExpired(this.retentionMs());
    const n = Object.values(deleted).reduce((a, b) => a + b, 0);
    if (n > 0) this.log(`retention: removed ${Object.entries(deleted).map(([t, c]) => `${c} ${t}`).join(", ")}`);
    return deleted;
  }
}
