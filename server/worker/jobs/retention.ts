import { deleteExpired, type KeptPeriod } from "../../repos/storage/retention";
import { DAY_MS, dayOf, makeDays } from "../../repos/storage/time-partitions";
import { getStream } from "../../repos/streams-repo";

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
    let kept: KeptPeriod[] = [];
    const deleted = await deleteExpired(this.retentionMs(), undefined, undefined, nowMs, (d) => {
      // a table held for longer at every run (a session idle in a transaction) would keep every
      // expired day on disk: say so each time
      if (d.gaveWay) this.log(`retention: expired days are due but their tables stayed busy (${d.attempts} attempts, ${(d.waitMs / 1000).toFixed(1)} s waited for their locks); dropping nothing until the next run`);
      else if (d.tables) this.log(`retention: dropped ${d.tables} day tables (locks held ${d.heldMs.toFixed(0)} ms, commit ${d.commitMs.toFixed(0)} ms)`);
      kept = d.kept;
    });
    if (kept.length) this.log(await keptMessage(kept, this.retentionMs()));
    const n = Object.values(deleted).reduce((a, b) => a + b, 0);
    if (n > 0) this.log(`retention: removed ${Object.entries(deleted).map(([t, c]) => `${c} ${t}`).join(", ")}`);
    return deleted;
  }
}

const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/**
 * Says which data older than the window stays, and why: a stream whose own newest sample is
 * older (imported history, a stopped stream) keeps its last window of data, wherever it lies,
 * until it is deleted. Every hour, as long as it is so.
 */
async function keptMessage(kept: readonly KeptPeriod[], retentionMs: number): Promise<string> {
  const streams = [...new Set(kept.map((k) => k.streamId))];
  const named = await Promise.all(
    streams.slice(0, 3).map(async (id) => {
      const s = await getStream(id);
      if (!s) return `stream ${id}`;
      const newest = s.lastSampleAtMs === null ? "no newest sample yet: still being stored" : `newest sample ${new Date(s.lastSampleAtMs).toISOString().slice(0, 10)}`;
      return `${s.sourceName} ${s.key} (stream ${id}, ${newest})`;
    }),
  );
  const from = Math.min(...kept.map((k) => k.day));
  const to = Math.max(...kept.map((k) => k.endDay));
  return (
    `retention: ${kept.length} day/month partitions between ${isoDay(from)} and ${isoDay(to)} lie before the ${Math.round(retentionMs / DAY_MS)}-day window ` +
    `but stay: streams whose own newest sample is older keep their last ${Math.round(retentionMs / DAY_MS)} days there, e.g. ${named.join("; ")}` +
    `${streams.length > 3 ? ` (${streams.length - 3} more)` : ""}. Delete those streams to free them.`
  );
}
