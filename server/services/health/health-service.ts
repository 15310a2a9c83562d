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
    return { name: w.name, pid: w.pid, alive: nowMs - w.heartbeatAtMs < WORKER_STALE_MS, lastHeartbeatMs: w.heartbeatAtMs, cursor: w.cursor, info };
  });
  const streams = await countAllStreams();
  return { ok: database.ok && workers.some((w) => w.alive), database, workers, streams };
}
