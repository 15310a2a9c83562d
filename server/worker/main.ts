import { closeDatabase, configureDatabase, isEmbeddedUrl } from "../db";
import { resolveDatabase } from "../embedded/embedded-db";
import { ConfigError, parseEnv } from "../env";
import { migrate } from "../migrate";
import { Worker } from "./worker";

/**
 * `npm run worker`: the background process on its own. Uses DATABASE_URL, or the embedded
 * database that a running `npm start` serves, or hosts the embedded database itself.
 */
async function main(): Promise<void> {
  const env = parseEnv();
  const { url, embedded, mode } = await resolveDatabase(env.DATABASE_URL, env.dataDir);
  configureDatabase(url);
  if (process.env.OMEN_SKIP_MIGRATE !== "1") await migrate(url);
  const worker = new Worker({
    name: process.env.OMEN_WORKER_NAME ?? "worker",
    collectIntervalMs: env.OMEN_COLLECT_INTERVAL_MS,
    hostCollector: !env.OMEN_DISABLE_HOST_COLLECTOR,
  });
  await worker.start();
  console.log(`[worker] running (database: ${mode === "embedded" || isEmbeddedUrl(url) ? "embedded" : "postgres"}, pid ${process.pid})`);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[worker] ${signal}: stopping`);
    await worker.stop();
    await closeDatabase();
    await embedded?.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((e: unknown) => {
  console.error(e instanceof ConfigError ? e.message : `[worker] fatal: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
