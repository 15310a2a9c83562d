/**
 * `npm start`'s restart policy for the worker: back-off doubling from 1 s to 30 s, reset by a
 * run that lasted a minute; more than `limit` exits within `windowMs` gives up (null), so that
 * `npm start` exits non-zero and systemd or Docker restarts all of Omen.
 */
export class WorkerRestarts {
  private exits: number[] = [];
  private attempt = 0;

  constructor(
    readonly limit = Number(process.env.OMEN_WORKER_RESTART_LIMIT ?? 5),
    readonly windowMs = 120_000,
    readonly healthyRunMs = 60_000,
  ) {}

  /** Delay before the next start after an exit at `nowMs` of a run that lasted `ranMs`; null: give up. */
  next(nowMs: number, ranMs: number): number | null {
    if (ranMs >= this.healthyRunMs) this.attempt = 0;
    this.exits = this.exits.filter((t) => nowMs - t < this.windowMs);
    this.exits.push(nowMs);
    if (this.exits.length > this.limit) return null;
    return Math.min(30_000, 1_000 * 2 ** this.attempt++);
  }
}
