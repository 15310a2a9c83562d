import { pool } from "../db";

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
