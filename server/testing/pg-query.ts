import pg from "pg";

/**
 * One statement on a connection of its own, opened for it and closed after (also when it
 * fails): for tests that look into a database another process writes (`npm start`, a worker).
 */
export async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}
