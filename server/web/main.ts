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
import { createHandoffClient } from "../worker/handoff/client";

const root = path.resolve(import.meta.dirname, "..", "..");
/** How long requests in flight get to finish on shutdown. */
const SHUTDOWN_GRACE_MS = 10_000;

function fail(message: string): never {
  console.error(`[web] ${message}`);
  process.exit(1);
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
  // worker's hand-off endpoint
  const handoff = createHandoffClient();
  setCommitSink(handoff.sink);
  const web = await startWebServer({ dir: root, host: settings.HOST, port: settings.PORT });
  console.log(`[web] listening on ${web.url}`);

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
        handoff.close();
        return closeDatabase();
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
