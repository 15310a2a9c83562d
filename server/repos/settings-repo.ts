import type pg from "pg";
import { pool } from "../db";

/** A pool or one client (the start script reads settings before the process pool exists). */
export type Queryable = Pick<pg.Pool | pg.Client, "query">;

/** Small key/value settings shared by the web app and the worker (table `setting`). */
export async function getSetting(key: string): Promise<string | null> {
  const res = await pool().query<{ value: string }>("SELECT value FROM setting WHERE key = $1", [key]);
  return res.rows[0]?.value ?? null;
}

export async function setSetting(key: string, value: string): Promise<void> {
  await pool().query(
    `INSERT INTO setting (key, value, updated_at) VALUES ($1, $2, now())
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
    [key, value],
  );
}

/** Reads and deletes a key atomically (a one-shot request from the web app to the worker). */
export async function takeSetting(key: string): Promise<string | null> {
  const res = await pool().query<{ value: string }>("DELETE FROM setting WHERE key = $1 RETURNING value", [key]);
  return res.rows[0]?.value ?? null;
}

/**
 * Stores `value` under `key` unless the key exists, in one statement (race-safe across
 * processes); returns the value that is stored now and whether this call stored it.
 */
export async function insertSettingIfAbsent(key: string, value: string, db: Queryable = pool()): Promise<{ value: string; inserted: boolean }> {
  const res = await db.query<{ value: string; inserted: boolean }>(
    `WITH ins AS (
       INSERT INTO setting (key, value, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (key) DO NOTHING RETURNING value
     )
     SELECT value, true AS inserted FROM ins
     UNION ALL SELECT value, false FROM setting WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
    [key, value],
  );
  const row = res.rows[0];
  if (!row) throw new Error(`could not store setting "${key}"`);
  return row;
}
