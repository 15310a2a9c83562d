import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { closeDatabase, configureDatabase } from "../db";
import { startEmbeddedDatabase, type EmbeddedDatabase } from "../embedded/embedded-db";
import { migrate } from "../migrate";
import { query } from "./pg-query";

/**
 * A fresh, migrated database for one integration test file: a new database on the PostgreSQL
 * server named by TEST_DATABASE_URL (CI and developer machines), or an embedded PGlite in a
 * temp directory when there is no server (`backend: "pglite"` forces it).
 */
export interface TestDatabase {
  url: string;
  backend: "postgres" | "pglite";
  drop(): Promise<void>;
}

/** Prefix of test databases' names: OMEN_TEST_DB_PREFIX where several people's tests share one server, else omen_t_. */
export function testDatabasePrefix(): string {
  const prefix = process.env.OMEN_TEST_DB_PREFIX ?? "";
  return /^[a-z_][a-z0-9_]*$/.test(prefix) ? prefix : "omen_t_";
}

export function availableBackends(): ("postgres" | "pglite")[] {
  return process.env.TEST_DATABASE_URL ? ["postgres", "pglite"] : ["pglite"];
}

export async function createTestDatabase(
  backend: "postgres" | "pglite" = availableBackends()[0]!,
  /** migrations to apply (a test of an upgrade starts from the ones before it) */
  opts: { migrationsDir?: string } = {},
): Promise<TestDatabase> {
  if (backend === "postgres") {
    const admin = process.env.TEST_DATABASE_URL;
    if (!admin) throw new Error("TEST_DATABASE_URL is not set");
    const name = `${testDatabasePrefix()}${crypto.randomBytes(5).toString("hex")}`;
    await query(admin, `CREATE DATABASE ${name}`);
    const u = new URL(admin);
    u.pathname = `/${name}`;
    const url = u.toString();
    await migrate(url, opts.migrationsDir);
    configureDatabase(url);
    return {
      url,
      backend,
      async drop() {
        await closeDatabase();
        await query(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omen-pglite-"));
  const embedded: EmbeddedDatabase = await startEmbeddedDatabase(dir);
  await migrate(embedded.url, opts.migrationsDir);
  configureDatabase(embedded.url);
  return {
    url: embedded.url,
    backend,
    async drop() {
      await closeDatabase();
      await embedded.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
