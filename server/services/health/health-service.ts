import { countAllStreams } from "../../repos/streams-repo";
import { ping, readWorkerStatus } from "../../repos/worker-status-repo";

const WORKER_STALE_MS = 60_000;

/** Database and worker status for /api/health and the UI header. */
export async function healthReport(nowMs = Date.now()) {
  let database: { ok: boolean; latencyMs?: number; error?: string };
  try {
    database = { ok: true, latencyMs: Math.round((await ping()) * 10) / 10 };
  } catch (e) {
    return { ok: false, database: { ok: false, error: (e as Error).message }, workers: [], streams: 0 };
  }
  const workers = (await readWorkerStatus()).map((w) => {
    const { handoff: _secret, ...info } = w.info; // the hand-off endpoint's secret stays internal
    const alive = nowMs - w.heartbeatAtMs < WORKER_STALE_MS;
    return { name: w.name, pid: w.pid, alive, partitions: ownedPartitions(w.info, alive), lastHeartbeatMs: w.heartbeatAtMs, cursor: w.cursor, info };
  });
  const streams = await countAllStreams();
  return { ok: database.ok && workers.some((w) => w.alive), database, workers, partitions: partitionCount(workers), streams };
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
