import type pg from "pg";
import { pool } from "../db";
import { forgetAllDays, makeDays, missingPartitionDay } from "./storage/time-partitions";

/**
 * Runs `fn` between BEGIN and COMMIT on one pooled connection; on failure rolls back, releases
 * the connection and rethrows. A write that found no partition for its day (dropped by
 * retention since this process made it, or a writer that did not make its days first) has the
 * day made and runs again: `fn` must be safe to run twice (the writers build their statements
 * before they begin).
 */
export async function inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const made = new Set<number>();
  for (;;) {
    try {
      return await once(fn);
    } catch (e) {
      const day = missingPartitionDay(e);
      // a day made here and missing again is not ours to fix; one attempt per day of the write
      if (day === null || made.has(day)) throw e;
      // what this process knew is stale: its next writes make their days before they begin
      forgetAllDays();
      made.add(day);
      await makeDays([day]);
    }
  }
}

/**
 * Runs `fn` in one read-only MVCC snapshot (REPEATABLE READ): several statements see the
 * database as of the first one, so an owner row and the chunk rows read after it
 * (bytea-chunks.ts) belong to the same save.
 */
export function inReadSnapshot<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return once(fn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

async function once<T>(fn: (client: pg.PoolClient) => Promise<T>, begin = "BEGIN"): Promise<T> {
  const client = await pool().connect();
  try {
    await client.query(begin);
    const out = await fn(client);
    await client.query("COMMIT");
    return out;
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/** PostgreSQL unique_violation: the optimistic COPY paths fall back to an upsert on it. */
export function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: string } | null)?.code === "23505";
}
