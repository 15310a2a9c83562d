import { fairShare } from "@/lib/scale/partition";
import type { SampleLog } from "./sample-log";

/**
 * Partition ownership in the JetStream KV bucket of the sample log: key `p.<n>` holds the
 * owning worker's id. A worker takes a free partition with `create` (fails if anyone holds
 * it), renews its own with revision-checked `update` (fails if it lost the key meanwhile),
 * and gives one back with a revision-checked `delete`. The bucket's TTL (LEASE_TTL_MS) expires
 * the keys of a worker that stopped renewing, so its partitions are free again within 15 s.
 * Workers announce themselves under `w.<id>` (same TTL); each aims for an even share.
 *
 * Leases keep two owners from working on a partition for long; they are not the fence.
 * The fence is the partition cursor in PostgreSQL (partition-repo): a stale owner's writes
 * for messages already scored are refused in the transaction.
 */
export interface LeaseHandlers {
  /** A partition became this worker's: start consuming it (resolves once it runs). */
  acquired(p: number): Promise<void>;
  /** Give the partition up (snapshot, stop); `lost`: someone else holds it already. */
  released(p: number, lost: boolean): Promise<void>;
}

export const RENEW_EVERY_MS = 3_000;

export class PartitionLeases {
  /** owned partition -> the revision of its lease key */
  private readonly owned = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> = Promise.resolve();
  private stopped = false;
  liveWorkers = 1;

  constructor(
    private readonly log: SampleLog,
    readonly workerId: string,
    private readonly handlers: LeaseHandlers,
    private readonly note: (msg: string) => void = () => undefined,
  ) {
    if (!/^[-\w=]+$/.test(workerId)) throw new Error(`worker id ${workerId} has characters a KV key cannot hold`);
  }

  partitions(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  start(): void {
    const tick = () => {
      this.round = this.round.then(() => this.balance()).catch((e: Error) => this.note(`lease round failed: ${e.message}`));
      void this.round.then(() => {
        if (!this.stopped) this.timer = setTimeout(tick, RENEW_EVERY_MS);
      });
    };
    tick();
  }

  /** One round: announce, renew, then give back or take partitions towards an even share. */
  async balance(): Promise<void> {
    const kv = this.log.leases;
    await kv.put(`w.${this.workerId}`, String(Date.now()));
    for (const [p, rev] of [...this.owned]) {
      try {
        this.owned.set(p, await kv.update(`p.${p}`, this.workerId, rev));
      } catch {
        this.owned.delete(p);
        this.note(`lost partition ${p} (lease expired or taken)`);
        await this.handlers.released(p, true);
      }
    }
    const workers = await collect(await kv.keys("w.*"));
    this.liveWorkers = Math.max(1, workers.length);
    const share = fairShare(this.log.config.partitions, this.liveWorkers);
    while (this.owned.size > share) {
      const p = Math.max(...this.owned.keys());
      const rev = this.owned.get(p)!;
      this.owned.delete(p);
      await this.handlers.released(p, false);
      await kv.delete(`p.${p}`, { previousSeq: rev }).catch(() => undefined);
      this.note(`gave partition ${p} back (${this.liveWorkers} workers share ${this.log.config.partitions})`);
    }
    for (let p = 0; p < this.log.config.partitions && this.owned.size < share && !this.stopped; p++) {
      if (this.owned.has(p)) continue;
      let rev: number;
      try {
        rev = await kv.create(`p.${p}`, this.workerId);
      } catch {
        continue; // held by another worker
      }
      this.owned.set(p, rev);
      try {
        await this.handlers.acquired(p);
      } catch (e) {
        this.owned.delete(p);
        await kv.delete(`p.${p}`, { previousSeq: rev }).catch(() => undefined);
        this.note(`could not start partition ${p}: ${(e as Error).message}`);
      }
    }
  }

  /** Gives one partition back now (its runner failed); it is taken again at a next round. */
  giveBack(p: number): Promise<void> {
    // on the rounds' chain, so that it never interleaves with a renewal of the same lease
    this.round = this.round.then(async () => {
      const rev = this.owned.get(p);
      if (rev === undefined) return;
      this.owned.delete(p);
      await this.handlers.released(p, false);
      await this.log.leases.delete(`p.${p}`, { previousSeq: rev }).catch(() => undefined);
    });
    return this.round;
  }

  /** Gives every partition back (graceful stop: the others take them at once, not after the TTL). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round;
    for (const [p, rev] of [...this.owned]) {
      this.owned.delete(p);
      await this.handlers.released(p, false).catch((e: Error) => this.note(`partition ${p}: ${e.message}`));
      await this.log.leases.delete(`p.${p}`, { previousSeq: rev }).catch(() => undefined);
    }
    await this.log.leases.delete(`w.${this.workerId}`).catch(() => undefined);
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
