import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { authenticate } from "./pg-password-gate";
import { ProtocolAwareQueue } from "./pglite-queue";

/**
 * The embedded database: PGlite (Postgres compiled to Wasm) keeping its files under
 * `<dataDir>/pgdata`, served over TCP on loopback by pglite-socket so that the web app, the
 * worker and the Prisma CLI all talk to it with an ordinary postgres:// URL.
 * PGlite is single-writer: exactly one process hosts it; others find it via `embedded.json`.
 */
export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

interface LockInfo {
  pid: number;
  url: string;
  port: number;
}

/** Marks embedded URLs: its socket cannot carry COPY, so bulk writes use unnest there. */
export const EMBEDDED_APP_NAME = "omen-embedded";

const lockFile = (dataDir: string) => path.join(dataDir, "embedded.json");

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function canConnect(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** URL of an embedded database another live Omen process is serving, if any. */
export async function findRunningEmbedded(dataDir: string): Promise<LockInfo | undefined> {
  let info: LockInfo;
  try {
    info = JSON.parse(fs.readFileSync(lockFile(dataDir), "utf8")) as LockInfo;
  } catch {
    return undefined;
  }
  if (info.pid === process.pid || !isAlive(info.pid)) return undefined;
  return (await canConnect(info.port)) ? info : undefined;
}

/** Owner-only modes for the data directory and everything in it (0700 directories, 0600 files). */
export function restrictModes(dir: string): void {
  if (!fs.existsSync(dir)) return;
  fs.chmodSync(dir, 0o700);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) restrictModes(p);
    else if (e.isFile()) fs.chmodSync(p, 0o600);
  }
}

/** The embedded superuser's password: generated once, kept in `<dataDir>/db-password` (0600). */
export function embeddedPassword(dataDir: string): string {
  const file = path.join(dataDir, "db-password");
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  try {
    fs.writeFileSync(file, crypto.randomBytes(24).toString("base64url"), { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  return fs.readFileSync(file, "utf8").trim();
}

export async function startEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
  // PGlite creates its files with the process umask (0666 & ~umask): files it creates later
  // (new relations, WAL) must be owner-only too, so the hosting process keeps umask 077.
  process.umask(0o077);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  restrictModes(dataDir);
  const password = embeddedPassword(dataDir);
  const pgdata = path.join(dataDir, "pgdata");
  let db: InstanceType<typeof PGlite>;
  try {
    db = await PGlite.create({ dataDir: pgdata });
  } catch (e) {
    throw new Error(
      `Cannot open the embedded database in ${pgdata}: ${(e as Error).message}. ` +
        `Is another Omen using this OMEN_DATA_DIR? Stop it, or set DATABASE_URL to use PostgreSQL.`,
    );
  }
  // a new database's files are unpacked with their archived modes (0666), whatever the umask
  restrictModes(dataDir);
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 64 });
  // The stock queue keeps a connection's messages together only inside a transaction; ours also
  // keeps each extended-protocol query (Parse … Sync) together. The server hands this field to
  // every connection it accepts.
  (server as unknown as { queryQueue: ProtocolAwareQueue }).queryQueue = new ProtocolAwareQueue(db);
  // Each connection proves the password before pglite-socket sees it (pg-password-gate.ts).
  const internals = server as unknown as { handleConnection(socket: net.Socket): Promise<void> };
  const accept = internals.handleConnection.bind(server);
  internals.handleConnection = async (socket: net.Socket) => {
    const startup = await authenticate(socket, password);
    if (!startup) return;
    socket.unshift(startup);
    await accept(socket);
    socket.resume();
  };
  await server.start();
  const port = Number(server.getServerConn().split(":").pop());
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres?sslmode=disable&application_name=${EMBEDDED_APP_NAME}`;
  const info: LockInfo = { pid: process.pid, url, port };
  fs.writeFileSync(lockFile(dataDir), JSON.stringify(info), { mode: 0o600 });
  let stopped = false;
  return {
    url,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await db.close();
      try {
        const current = JSON.parse(fs.readFileSync(lockFile(dataDir), "utf8")) as LockInfo;
        if (current.pid === process.pid) fs.unlinkSync(lockFile(dataDir));
      } catch {
        /* already gone */
      }
    },
  };
}

/**
 * Resolves the database for this process: DATABASE_URL when set, else an embedded database
 * already served by another Omen process, else one hosted here.
 */
export async function resolveDatabase(
  databaseUrl: string | undefined,
  dataDir: string,
): Promise<{ url: string; embedded: EmbeddedDatabase | undefined; mode: "postgres" | "embedded" }> {
  if (databaseUrl) return { url: databaseUrl, embedded: undefined, mode: "postgres" };
  const running = await findRunningEmbedded(dataDir);
  if (running) return { url: running.url, embedded: undefined, mode: "embedded" };
  const embedded = await startEmbeddedDatabase(dataDir);
  return { url: embedded.url, embedded, mode: "embedded" };
}
