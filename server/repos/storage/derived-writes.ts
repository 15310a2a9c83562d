import type pg from "pg";
import { inTransaction } from "../transaction";

const ASYNC_COMMIT = "SET LOCAL synchronous_commit TO off";

/**
 * `inTransaction` for derived data (scores, rollups, stream rows): a crash can lose the last few
 * hundred milliseconds of them, which the worker recomputes anyway (it resumes from its snapshot
 * cursor, and the snapshot's own synchronous commit flushes every earlier commit's WAL). So the
 * commit skips the WAL flush wait; samples (what a 2xx promises) stay synchronous.
 */
export function inDerivedTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(async (client) => {
    await client.query(ASYNC_COMMIT);
    return fn(client);
  });
}
