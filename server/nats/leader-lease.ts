import type { KV } from "@nats-io/kv";
import { LEASE_TTL_MS } from "./sample-log";

/**
 * The scale-out group's leader: the one worker that runs the global jobs (alert dispatch,
 * retention, Prometheus pull, host collector, omen.yaml sync). Key `leader` of the lease bucket
 * holds its id: taken with `create` (fails while held), renewed with a revision-checked
 * `update`; the bucket's TTL frees it within 15 s of the leader's death, and another worker
 * takes it at its next round.
 *
 * `held` turns false a few seconds before the key could expire without a renewal: a leader
 * that was paused (stopped, swapping) does not go on as leader while another may have taken
 * over. The global jobs are safe to overlap for a moment anyway (alert deliveries are claimed
 * in the database, retention is idempotent); the lease keeps them from running twice as a rule.
 */
export class LeaderLease {
  private rev: number | null = null;
  private renewedAtMs = 0;

  constructor(
    private readonly kv: KV,
    readonly workerId: string,
    private readonly handlers: { gained(): void; lost(): void },
    private readonly key = "leader",
  ) {}

  get held(): boolean {
    return this.rev !== null && Date.now() - this.renewedAtMs < LEASE_TTL_MS - 5_000;
  }

  /** One round: renew the lease when held, else try to take it. */
  async round(): Promise<void> {
    const t = Date.now();
    if (this.rev !== null) {
      try {
        this.rev = await this.kv.update(this.key, this.workerId, this.rev);
        this.renewedAtMs = t;
        return;
      } catch {
        this.rev = null;
        this.handlers.lost();
      }
    }
    try {
      this.rev = await this.kv.create(this.key, this.workerId);
    } catch {
      return; // another worker leads
    }
    this.renewedAtMs = t;
    this.handlers.gained();
  }

  /** Gives the lease up (graceful stop): another worker takes it at its next round. */
  async release(): Promise<void> {
    if (this.rev === null) return;
    const rev = this.rev;
    this.rev = null;
    await this.kv.delete(this.key, { previousSeq: rev }).catch(() => undefined);
  }
}
