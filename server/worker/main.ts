import fs from "node:fs";
import inspector from "node:inspector/promises";
import { closeDatabase, configureDatabase, isEmbeddedUrl, setDatabaseRole } from "../db";
import { resolveDatabase } from "../embedded/embedded-db";
import { ConfigError, parseEnv } from "../env";
import { migrate } from "../migrate";
import { setCommitSink } from "../services/ingest/group-commit";
import { startHandoffServer } from "./handoff";
import { runPartitionWorker } from "./partitioned/run";
import { EMBEDDED_BATCH_LIMIT, Worker } from "./worker";

/**
 * OMEN_WORKER_CPU_PROFILE=<file.cpuprofile>: profile the worker until it stops (for finding
 * hot spots under real load, e.g. during `npm run bench:ingest`; open the file in Chrome DevTools).
 */
async function startCpuProfile(file: string | undefined): Promise<{ stop(): Promise<void> } | null> {
  if (!file) return null;
  const session = new inspector.Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return {
    async stop() {
      const { profile } = await session.post("Profiler.stop");
      fs.writeFileSync(file, JSON.stringify(profile));
      console.log(`[worker] CPU profile written to ${file}`);
    },
  };
}

/**
 * `npm run worker`: the background process on its own. Uses DATABASE_URL, or the embedded
 * database that a running `npm start` serves, or hosts the embedded database itself.
 */
async function main(): Promise<void> {
  const env = parseEnv();
  const { url, embedded, mode } = await resolveDatabase(env.DATABASE_URL, env.dataDir);
  const onEmbedded = mode === "embedded" || isEmbeddedUrl(url);
  configureDatabase(url);
  setDatabaseRole("omen-worker");
  if (!env.OMEN_SKIP_MIGRATE) await migrate(url);
  if (env.OMEN_NATS_URL) {
    return runPartitionWorker(env, async () => {
      await closeDatabase();
      await embedded?.stop();
    });
  }
  // Batches committed in this process (host collector, pulls) or by the web process (the
  // hand-off server) go straight into the worker's hand-off queue, which the pipeline reads.
  let worker: Worker | null = null;
  const handoff = await startHandoffServer(
    (b) => worker?.handoff.offer(b),
    (r) => worker?.probe(r) ?? [],
    (cmd) => worker?.command(cmd),
  );
  worker = new Worker({
    name: env.OMEN_WORKER_NAME,
    collectIntervalMs: env.OMEN_COLLECT_INTERVAL_MS,
    hostCollector: !env.OMEN_DISABLE_HOST_COLLECTOR,
    handoff: handoff.endpoint,
    snapshotIntervalMs: env.OMEN_SNAPSHOT_INTERVAL_MS,
    batchLimit: env.OMEN_WORKER_BATCH ?? (onEmbedded ? EMBEDDED_BATCH_LIMIT : undefined),
    // exit non-zero: `npm start` (or systemd, Docker) starts a fresh worker, which resumes from its snapshot
    onFatal: (e) => {
      console.error(`[worker] fatal: ${e.message}`);
      process.exit(1);
    },
  });
  const running = worker;
  setCommitSink((b) => running.handoff.offer(b));
  const profile = await startCpuProfile(env.OMEN_WORKER_CPU_PROFILE);
  await worker.start();
  console.log(`[worker] running (database: ${onEmbedded ? "embedded" : "postgres"}, pid ${process.pid})`);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[worker] ${signal}: stopping`);
    await profile?.stop();
    await handoff.close();
    await running.stop();
    setCommitSink(null);
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
