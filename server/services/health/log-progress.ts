/** With messages waiting in the sample log, no partition cursor moving for this long is a stall (as the single worker's). */
export const LOG_STALL_MS = 30_000;

/**
 * Scale-out: whether the sample log's backlog is being worked off. Fed each health report's
 * pending message count and the partition cursors the live workers report; a partition's
 * cursor moving past the highest seen for it is progress (a partition moving between workers,
 * or missing from every heartbeat for a while, is not). Pure: the caller passes the time.
 */
export class LogProgressWatch {
  private readonly highest = new Map<number, number>();
  private idleSinceMs: number | null = null;

  /** How long messages have waited with no progress (ms), or null while none wait or progress was made. */
  observe(nowMs: number, pending: number | null, cursors: readonly { partition: number; msgSeq: number }[]): number | null {
    let moved = false;
    for (const c of cursors) {
      if (c.msgSeq > (this.highest.get(c.partition) ?? -1)) {
        if (this.highest.has(c.partition)) moved = true;
        this.highest.set(c.partition, c.msgSeq);
      }
    }
    if (pending === null || pending === 0 || moved) {
      this.idleSinceMs = pending ? nowMs : null;
      return null;
    }
    this.idleSinceMs ??= nowMs;
    return nowMs - this.idleSinceMs;
  }
}
