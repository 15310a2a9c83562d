import pg from "pg";
import { databaseUrl, isEmbeddedUrl } from "../db";

/** pg_advisory_lock key held by the one worker that scores (any constant unused elsewhere). */
const WORKER_LOCK = 0x0e12;

export interface WorkerLock {
  release(): Promise<void>;
}

/**
 * Takes the scoring worker's lock on a connection of its own and holds it while the process
 * lives: two workers scoring the same samples (an orphan of a killed `npm start` still running
 * while its successor starts) would write every result twice. Waits, polling, while another
 * holds it. `onLost` is called when the connection ends (database restart, network): the lock
 * is gone then, and the caller must stop scoring. (PGlite serves all connections from one
 * session, where the lock is always granted; one Omen per data directory is enforced at start.)
 */
export async function acquireWorkerLock(opts: { onWait?: () => void; onLost: (e: Error) => void; pollMs?: number }): Promise<WorkerLock> {
  if (isEmbeddedUrl(databaseUrl())) return { release: async () => undefined };
  const client = new pg.Client({ connectionString: databaseUrl(), application_name: "omen-worker-lock" });
  let released = false;
  client.on("error", (e) => {
    if (!released) opts.onLost(e);
  });
  client.on("end", () => {
    if (!released) opts.onLost(new Error("the worker lock's database connection ended"));
  });
  await client.connect();
  let waited = false;
  for (;;) {
    const res = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [WORKER_LOCK]);
    if (res.rows[0]?.ok) break;
    if (!waited) opts.onWait?.();
    waited = true;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 2_000));
  }
  // a keep-alive query now and then notices a dead connection even when nothing else is running
  const probe = setInterval(() => {
    client.query("SELECT 1").catch((e: Error) => {
      if (!released) opts.onLost(e);
    });
  }, 5_000);
  probe.unref();
  return {
    async release() {
      released = true;
      clearInterval(probe);
      await client.end().catch(() => undefined);
    },
  };
}
