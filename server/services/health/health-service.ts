import { countAllStreams } from "../../repos/streams-repo";
import { readLogBacklogCached, type LogBacklog } from "../ingest/ingest-service";
import { lateCounts, LOG_STALL_MS, LogProgressWatch, type StalledPartition } from "./log-progress";
import { ping, readWorkerStatus, statusSequenceHead, WORKER_STALE_MS } from "../../repos/worker-status-repo";

/** How many streams, cached briefly: /api/health is polled often and must answer fast under load. */
let streamsCache: { atMs: number; value: Promise<number> } | undefined;
const STREAMS_CACHE_MS = 5_000;

function cachedStreamCount(nowMs: number): Promise<number> {
  if (!streamsCache || nowMs - streamsCache.atMs > STREAMS_CACHE_MS) {
    const value = countAllStreams();
    streamsCache = { atMs: nowMs, value };
    value.catch(() => (streamsCache = undefined));
  }
  return streamsCache.value;
}

/**
 * What is stored but not scored yet. Single worker: `rows`, the 32-stream block rows committed
 * after its cursor, `pendingSamples`, samples it read and holds for the newest step. Scale-out
 * (OMEN_NATS_URL): `rows` and `pendingSamples` are null (workers keep no seq cursor);
 * `pendingMessages` counts the sample log's messages (one per committed batch and partition)
 * its partitions' owners have not acknowledged yet: not delivered, or delivered and not yet
 * covered by a partition snapshot (taken every ~5 s), so 0 a few seconds after the workers
 * caught up; null where this process cannot read the log. `worstPartition` is the partition
 * with the most; `stalledPartitions`, those whose messages have waited more than 30 s with
 * their own cursor unmoved (owner frozen, stuck or gone), even while the others progress.
 * Both modes: `lateSamples` / `lateScored`, samples that arrived for a step already scored and
 * of those the ones scored: single worker, since it started; scale-out, every partition's
 * count since its log began (kept with its cursor, so a partition that moves keeps it), summed
 * over the partitions the live workers own.
 */
interface Backlog {
  rows: number | null;
  pendingSamples: number | null;
  pendingMessages: number | null;
  worstPartition: { partition: number; pending: number } | null;
  stalledPartitions: StalledPartition[] | null;
  lateSamples: number | null;
  lateScored: number | null;
}

const num = (x: unknown): number | null => (typeof x === "number" && Number.isFinite(x) ? x : null);

/**
 * Database and worker status for /api/health and the UI header. `ok` is false while the
 * database is unreachable, no worker is alive, or the live worker cannot make progress (a write
 * failing and being retried, or samples waiting with no progress: `stalled`; scale-out: messages
 * waiting in the sample log while no partition cursor moves for 30 s, or one partition's
 * messages waiting while its own cursor does not move for 30 s, or the log unreadable);
 * `problems` says which, and `backlog` is what is stored but not scored yet.
 */
async function buildReport(nowMs: number) {
  let database: { ok: boolean; latencyMs?: number; error?: string };
  try {
    database = { ok: true, latencyMs: Math.round((await ping()) * 10) / 10 };
  } catch (e) {
    const error = (e as Error).message;
    return { ok: false, database: { ok: false, error }, workers: [], streams: 0, backlog: null, lastError: error, problems: [`database: ${error}`], checkedAtMs: nowMs };
  }
  const [rows, head, streams] = await Promise.all([readWorkerStatus(), statusSequenceHead(), cachedStreamCount(nowMs)]);
  const workers = rows.map((w) => {
    const { handoff: _secret, ...info } = w.info; // the hand-off endpoint's secret stays internal
    const alive = nowMs - w.heartbeatAtMs < WORKER_STALE_MS;
    return {
      name: w.name,
      pid: w.pid,
      alive,
      partitions: ownedPartitions(w.info, alive),
      stalled: alive && info.stalled === true,
      lastHeartbeatMs: w.heartbeatAtMs,
      cursor: w.cursor,
      backlog: Math.max(0, head - w.cursor),
      lastError: typeof info.lastError === "string" ? info.lastError : null,
      info,
    };
  });
  const live = workers.filter((w) => w.alive);
  const problems: string[] = [];
  if (workers.length === 0) problems.push("no detection worker has started yet");
  else if (live.length === 0 && workers.every((w) => w.info.stopped === true)) problems.push("the detection worker was stopped");
  else if (live.length === 0) {
    const newest = Math.max(...workers.map((w) => w.lastHeartbeatMs));
    problems.push(`the detection worker is down: last heartbeat ${Math.round((nowMs - newest) / 1000)} s ago`);
  }
  for (const w of live) {
    if (w.stalled) problems.push(`worker ${w.name} is not making progress${w.lastError ? `: ${w.lastError}` : ""}`);
  }
  let backlog: Backlog;
  const logRead = readLogBacklogCached(nowMs);
  if (logRead || workers.some((w) => w.info.nats === true)) {
    // scale-out: workers consume the JetStream sample log, their progress is per partition (no seq
    // cursor); the backlog is the log's, read from its partitions' durable consumers
    let log: LogBacklog | null = null;
    if (logRead) {
      try {
        log = await logRead;
      } catch (e) {
        problems.push(`the sample log (NATS) cannot be read: ${(e as Error).message}`);
      }
    }
    const natsLive = live.filter((w) => w.info.nats === true);
    const { log: waited, stalled } = logWatch.observe(nowMs, log?.partitions ?? null, natsLive.flatMap((w) => partitionCursors(w.info)));
    if (waited !== null && waited > LOG_STALL_MS) {
      problems.push(`the scale-out workers are not making progress: ${log?.pending} message(s) of the sample log wait and no partition's scores advanced for ${Math.round(waited / 1000)} s`);
    } else if (stalled.length) {
      const owner = (p: number) => natsLive.find((w) => w.partitions.includes(p))?.name;
      const each = stalled.map((s) => `partition ${s.partition} (${s.pending} message(s) waiting ${Math.round(s.waitedMs / 1000)} s, ${owner(s.partition) ? `owner ${owner(s.partition)}` : "no owner"})`);
      problems.push(`${stalled.length === 1 ? "a partition of the sample log is" : `${stalled.length} partitions of the sample log are`} not making progress while others do: ${each.join("; ")}`);
    }
    const late = natsLive.length ? lateCounts(natsLive.flatMap((w) => partitionCursors(w.info))) : null;
    backlog = { rows: null, pendingSamples: null, pendingMessages: log?.pending ?? null, worstPartition: log?.worst ?? null, stalledPartitions: log ? stalled : null, lateSamples: late?.samples ?? null, lateScored: late?.scored ?? null };
  } else {
    // the backlog the scoring worker has: block rows committed after its cursor, and samples it read but holds
    const scorer = live.length ? live.reduce((a, b) => (a.cursor <= b.cursor ? a : b)) : null;
    backlog = scorer
      ? { rows: scorer.backlog, pendingSamples: num(scorer.info.pendingSamples) ?? 0, pendingMessages: null, worstPartition: null, stalledPartitions: null, lateSamples: num(scorer.info.lateSamples) ?? 0, lateScored: num(scorer.info.lateScored) ?? 0 }
      : { rows: Math.max(0, head - Math.min(...workers.map((w) => w.cursor), head)), pendingSamples: null, pendingMessages: null, worstPartition: null, stalledPartitions: null, lateSamples: null, lateScored: null };
  }
  const lastError = live.find((w) => w.stalled)?.lastError ?? workers.find((w) => w.lastError)?.lastError ?? null;
  return { ok: database.ok && live.length > 0 && problems.length === 0, database, workers, partitions: partitionCount(workers), streams, backlog, lastError, problems, checkedAtMs: nowMs };
}

export type HealthReport = Awaited<ReturnType<typeof buildReport>>;

/** Reports at most this old are served as they are; a newer one is built in the background. */
const FRESH_MS = 1_000;
/** Older than this, a caller waits for the new report (the database may be slow or down). */
const STALE_MS = 5_000;
let last: HealthReport | undefined;
let building: Promise<HealthReport> | undefined;

/**
 * Database and worker status for /api/health and the UI header, built at most about once a
 * second however often it is polled: a report up to 1 s old is served as it is, one up to 5 s
 * old while a new one is built (so a poll under heavy load answers at once), an older one
 * waits for the new one. `checkedAtMs` says when it was built.
 */
export async function healthReport(nowMs = Date.now()): Promise<HealthReport> {
  if (last && nowMs - last.checkedAtMs < FRESH_MS) return last;
  building ??= buildReport(nowMs)
    .then((r) => (last = r))
    .finally(() => (building = undefined));
  if (last && nowMs - last.checkedAtMs < STALE_MS) return last;
  return building;
}

/** Progress of the sample log's partitions across reports (scale-out). */
const logWatch = new LogProgressWatch();

/** The partition cursors a scale-out worker reports in its heartbeat. */
function partitionCursors(info: Record<string, unknown>): { partition: number; msgSeq: number }[] {
  if (!Array.isArray(info.partitionCursors)) return [];
  return info.partitionCursors.filter((c): c is { partition: number; msgSeq: number } => {
    const o = c as Record<string, unknown> | null;
    return typeof o?.partition === "number" && typeof o.msgSeq === "number";
  });
}

/**
 * The partitions a worker owns now: a scale-out worker (OMEN_NATS_URL) reports its leases; the
 * single worker of the default setup scores everything, the one partition.
 */
function ownedPartitions(info: Record<string, unknown>, alive: boolean): number[] {
  if (!alive) return [];
  if (info.nats !== true) return [0];
  return Array.isArray(info.partitions) ? info.partitions.filter((p): p is number => Number.isInteger(p)) : [];
}

/** How many partitions there are (as the live scale-out workers report it; 1 without NATS). */
function partitionCount(workers: { alive: boolean; info: Record<string, unknown> }[]): number {
  for (const w of workers) if (w.alive && w.info.nats === true && typeof w.info.partitionCount === "number") return w.info.partitionCount;
  return 1;
}
