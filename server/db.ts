import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client";
import { EMBEDDED_APP_NAME } from "./embedded/embedded-db";
import { env } from "./env";

/**
 * One Prisma client and one pg pool per process, created lazily from DATABASE_URL (the start
 * script sets it, also for the embedded database). Repos use Prisma for ordinary queries and
 * the pool for COPY / unnest bulk writes and hand-tuned reads.
 */
export type Db = PrismaClient;

interface DbGlobals {
  prisma?: PrismaClient;
  pool?: pg.Pool;
  url?: string;
  /** application_name of this process's connections ("omen-web" unless set). */
  role?: string;
}
const g = globalThis as typeof globalThis & { __omenDb?: DbGlobals };
const state: DbGlobals = (g.__omenDb ??= {});

// Postgres int8 (seq, counts) as JS numbers: our values stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

function requireUrl(): string {
  const url = state.url ?? env().DATABASE_URL;
  if (!url) {
    throw new Error(
      "DATABASE_URL is not set for this process. Start Omen with `npm start` (which hosts the embedded database) or set DATABASE_URL.",
    );
  }
  return url;
}

/** True when the URL points at Omen's embedded PGlite (no COPY support over its socket). */
export function isEmbeddedUrl(url: string): boolean {
  return url.includes(`application_name=${EMBEDDED_APP_NAME}`);
}

/**
 * Names this process's connections (pg_stat_activity.application_name), so that an operator
 * (and `bench:ingest`'s CPU breakdown) can tell the web process's backends from the worker's.
 */
export function setDatabaseRole(role: "omen-web" | "omen-worker"): void {
  state.role = role;
}

export function configureDatabase(url: string): void {
  if (state.url && state.url !== url) throw new Error("database already configured with another URL");
  state.url = url;
}

export function pool(): pg.Pool {
  if (!state.pool) {
    const p = new pg.Pool({
      connectionString: requireUrl(),
      application_name: state.role ?? "omen-web",
      max: isEmbeddedUrl(requireUrl()) ? 4 : 10,
      connectionTimeoutMillis: 10_000,
    });
    // An idle connection dropped by the server (restart, failover) must not crash the process;
    // the pool replaces it and the next query reports the outage if it persists.
    p.on("error", (e) => console.error(`[db] idle connection lost: ${e.message}`));
    // A connection that dies while checked out (a transaction between two queries, a restart
    // of the server) emits "error" on its client, where pg-pool listens only while it is idle:
    // without a listener that crashes the process. The query in flight (or the next one) fails
    // with the error instead, and the pool discards the client when it is released.
    p.on("connect", (client) => client.on("error", () => undefined));
    state.pool = p;
  }
  return state.pool;
}

export function db(): PrismaClient {
  state.prisma ??= new PrismaClient({
    adapter: new PrismaPg({ connectionString: requireUrl(), application_name: state.role ?? "omen-web", max: isEmbeddedUrl(requireUrl()) ? 4 : 10 }),
  });
  return state.prisma;
}

export function databaseUrl(): string {
  return requireUrl();
}

export async function closeDatabase(): Promise<void> {
  const { prisma, pool: p } = state;
  state.prisma = undefined;
  state.pool = undefined;
  state.url = undefined;
  await Promise.allSettled([prisma?.$disconnect(), p?.end()]);
}
