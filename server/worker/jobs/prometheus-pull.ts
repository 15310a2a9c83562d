import { pullAllSources, type PullRunResult } from "../../services/sources/prometheus-pull";

/**
 * Worker job: every few seconds, advance every Prometheus pull source (backfill chunks first,
 * then the live edge). Errors are kept on the source (shown in Settings → Sources) and logged
 * once per change, never thrown: one unreachable Prometheus must not stop detection.
 */
export class PrometheusPullJob {
  static readonly intervalMs = 5_000;
  private lastErrors = new Map<string, string>();

  constructor(private readonly log: (msg: string) => void) {}

  async run(nowMs = Date.now()): Promise<PullRunResult[]> {
    const results = await pullAllSources(nowMs);
    for (const r of results) {
      const prev = this.lastErrors.get(r.source);
      if (r.error && r.error !== prev) this.log(`prometheus pull "${r.source}": ${r.error}`);
      if (r.error) this.lastErrors.set(r.source, r.error);
      else this.lastErrors.delete(r.source);
    }
    return results;
  }
}
