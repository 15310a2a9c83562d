/** With messages waiting in the sample log, no partition cursor moving for this long is a stall (as the single worker's). */
export const LOG_STALL_MS = 30_000;

export interface PartitionCursor {
  partition: number;
  msgSeq: number;
}

/** A partition whose messages wait while its own cursor stays put. */
export interface StalledPartition {
  partition: number;
  /** messages of the partition its durable consumer holds unacknowledged */
  pending: number;
  /** how long they have waited with the partition's cursor unmoved (ms) */
  waitedMs: number;
}

/**
 * Scale-out: whether the sample log's backlog is being worked off. Fed each health report's
 * pending message counts (in all, and per partition) and the partition cursors the live
 * workers report; a partition's cursor moving past the highest seen for it is progress (a
 * partition moving between workers, or missing from every heartbeat for a while, is not).
 * Two rules: the whole log (messages wait, no cursor moves) and each partition on its own
 * (its messages wait, its cursor does not move), so one stuck partition among busy ones is
 * seen too. Pure: the caller passes the time.
 */
export class LogProgressWatch {
  private readonly highest = new Map<number, number>();
  private idleSinceMs: number | null = null;
  /** per partition with messages waiting: since when they waited with its cursor unmoved */
  private readonly partitionIdleSinceMs = new Map<number, number>();

  /**
   * `log`: how long messages have waited with no cursor moving (ms), null while none wait or
   * progress was made; `stalled`: the partitions whose messages have waited longer than
   * `stallMs` with their own cursor unmoved. `perPartition` null (the log could not be read)
   * forgets the partitions' waits: nothing is known about them.
   */
  observe(
    nowMs: number,
    perPartition: readonly { partition: number; pending: number }[] | null,
    cursors: readonly PartitionCursor[],
    stallMs = LOG_STALL_MS,
  ): { log: number | null; stalled: StalledPartition[] } {
    const moved = this.moved(cursors);
    const pending = perPartition ? perPartition.reduce((a, p) => a + p.pending, 0) : null;
    const log = this.observeLog(nowMs, pending, moved.size > 0);
    const stalled: StalledPartition[] = [];
    const waiting = new Set<number>();
    for (const p of perPartition ?? []) {
      if (p.pending <= 0) continue;
      waiting.add(p.partition);
      const since = moved.has(p.partition) ? nowMs : (this.partitionIdleSinceMs.get(p.partition) ?? nowMs);
      this.partitionIdleSinceMs.set(p.partition, since);
      if (nowMs - since > stallMs) stalled.push({ partition: p.partition, pending: p.pending, waitedMs: nowMs - since });
    }
    for (const p of [...this.partitionIdleSinceMs.keys()]) if (!waiting.has(p)) this.partitionIdleSinceMs.delete(p);
    return { log, stalled: stalled.sort((a, b) => a.partition - b.partition) };
  }

  /** The partitions whose cursor moved past the highest seen for them (a first sighting is a baseline). */
  private moved(cursors: readonly PartitionCursor[]): Set<number> {
    const moved = new Set<number>();
    for (const c of cursors) {
      if (c.msgSeq > (this.highest.get(c.partition) ?? -1)) {
        if (this.highest.has(c.partition)) moved.add(c.partition);
        this.highest.set(c.partition, c.msgSeq);
      }
    }
    return moved;
  }

  private observeLog(nowMs: number, pending: number | null, progress: boolean): number | null {
    if (pending === null || pending === 0 || progress) {
      this.idleSinceMs = pending ? nowMs : null;
      return null;
    }
    this.idleSinceMs ??= nowMs;
    return nowMs - this.idleSinceMs;
  }
}

/**
 * Late counts over the scale-out workers' reported partition cursors, each partition's from the
 * report with its newest cursor: a partition's counts live with its cursor and move to its next
 * owner, so for a while after a takeover the dead owner's last heartbeat still lists them too.
 */
export function lateCounts(cursors: readonly (PartitionCursor & { late?: unknown; lateScored?: unknown })[]): { samples: number; scored: number } {
  const newest = new Map<number, { msgSeq: number; late: number; lateScored: number }>();
  for (const c of cursors) {
    const had = newest.get(c.partition);
    if (had && c.msgSeq <= had.msgSeq) continue;
    newest.set(c.partition, { msgSeq: c.msgSeq, late: typeof c.late === "number" ? c.late : 0, lateScored: typeof c.lateScored === "number" ? c.lateScored : 0 });
  }
  let samples = 0;
  let scored = 0;
  for (const v of newest.values()) {
    samples += v.late;
    scored += v.lateScored;
  }
  return { samples, scored };
}
