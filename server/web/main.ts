/**
 * The web process (`npm start` runs it, with the worker beside it): the built Next app behind a
 * plain Node HTTP server that answers the hot write endpoints itself (see web-server.ts).
 * Listens on HOST:PORT; SIGTERM/SIGINT stop it gracefully; a bad setting or a failed start
 * exits 1 with the reason.
 */
import path from "node:path";
import { closeDatabase } from "../db";
import { ConfigError, parseEnv } from "../env";
import { setCommitSink } from "../services/ingest/group-commit";
import { setCommandSink } from "../services/commands/worker-commands";
import { createHandoffClient } from "../worker/handoff";
import { openNatsSink } from "../nats/nats-sink";

const root = path.resolve(import.meta.dirname, "..", "..");
/** How long requests in flight get to finish on shutdown. */
const SHUTDOWN_GRACE_MS = 10_000;

function fail(message: string): never {
  console.error(`[web] ${message}`);
  process.exit(1);
}

/** With no account yet: creates `admin` from OMEN_ADMIN_PASSWORD, or prints a one-time set-up link. */
async function announceFirstAdmin(adminPassword: string | undefined, baseUrl: string): Promise<void> {
  const { ensureFirstAdmin } = await import("../services/auth/users-service");
  const first = await ensureFirstAdmin(adminPassword);
  if (first.kind === "admin-created") console.log("[web] created the first admin account `admin` (password from OMEN_ADMIN_PASSWORD)");
  if (first.kind === "setup-link") {
    console.log(
      `[web] no account yet: open ${baseUrl.replace(/\/+$/, "")}${first.path} within 24 h to create the first admin ` +
        "(the link works once; restart Omen for a new one, or set OMEN_ADMIN_PASSWORD)",
    );
  }
}

async function main(): Promise<void> {
  // as `next start` does: React and Next pick their production code paths from it (a write for
  // the libraries, not a setting of Omen's)
  // eslint-disable-next-line no-restricted-properties
  (process.env as Record<string, string | undefined>).NODE_ENV ??= "production";
  process.title = "omen-web";
  let settings;
  try {
    settings = parseEnv();
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  // loaded after NODE_ENV is set
  const { startWebServer } = await import("./web-server");
  // every commit of this process (both copies of the ingest module share the sink) goes to the
  // worker's hand-off endpoint, or (scale-out) to the JetStream sample log
  const nats = settings.OMEN_NATS_URL
    ? await openNatsSink({ url: settings.OMEN_NATS_URL, prefix: settings.OMEN_NATS_PREFIX, partitions: settings.OMEN_PARTITIONS })
    : null;
  const handoff = nats ?? createHandoffClient();
  // scale-out: each commit also records itself in the outbox (published by someone even if this process dies)
  setCommitSink(handoff.sink, nats?.outbox ?? null);
  // Settings → Models requests, feedback and configuration changes reach the worker(s) the same way
  setCommandSink(handoff.command);
  // scale-out back-pressure: refuse ingest while the workers lag too far behind the sample log
  if (nats) {
    const { setLogBacklogProbe } = await import("../services/ingest/ingest-service");
    setLogBacklogProbe({ read: nats.backlog, maxPending: settings.OMEN_NATS_MAX_PENDING });
  }
  // before listening: a client that sees the server up can sign in as the first admin
  await announceFirstAdmin(settings.OMEN_ADMIN_PASSWORD, settings.OMEN_PUBLIC_URL ?? `http://${settings.HOST}:${settings.PORT}`);
  const web = await startWebServer({ dir: root, host: settings.HOST, port: settings.PORT });
  console.log(`[web] listening on ${web.url}`);
  if (settings.OMEN_HEAP_REPORT_ON_SIGNAL) (await import("./heap-report")).installHeapReport();

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      console.error(`[web] requests still running ${SHUTDOWN_GRACE_MS / 1000} s after ${signal}; exiting`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    void web
      .close()
      .then(() => {
        setCommitSink(null);
        setCommandSink(null);
        return Promise.resolve(handoff.close()).then(() => closeDatabase());
      })
      .then(
        () => process.exit(0),
        (e: unknown) => fail(`shutdown failed: ${(e as Error).stack ?? String(e)}`),
      );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((e: unknown) => fail(`cannot start: ${(e as Error).stack ?? String(e)}`));
