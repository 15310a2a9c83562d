import type pg from "pg";
import { pool } from "../db";

/**
 * Runs `fn` between BEGIN and COMMIT on one pooled connection; on failure rolls back, releases
 * the connection and rethrows.
 */
export async function inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool().connect();
  try {
    await client.query("BEGIN");
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
