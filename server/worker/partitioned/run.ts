import type { TEnv } from "../../env";
import { subscribeCommands } from "../../nats/commands";
import { openSampleLog } from "../../nats/sample-log";
import { natsCommitSink } from "../../nats/commit-publisher";
import { setCommitSink } from "../../services/ingest/group-commit";
import { PartitionWorker } from "./partition-worker";

/**
 * The worker process in the scale-out group (OMEN_NATS_URL set): scores its share of the
 * partitions of the JetStream sample log, runs the global jobs while it leads, and takes web
 * commands from `<prefix>.commands`, until SIGTERM/SIGINT, then gives everything back.
 */
export async function runPartitionWorker(env: TEnv, closeDatabase: () => Promise<void>): Promise<void> {
  const name = env.OMEN_WORKER_NAME;
  const log = await openSampleLog({ url: env.OMEN_NATS_URL!, prefix: env.OMEN_NATS_PREFIX, partitions: env.OMEN_PARTITIONS }, `omen-worker ${name}`);
  // what this process ingests itself (Prometheus pull, host collector) goes to the sample log like any commit
  const commits = natsCommitSink(log);
  setCommitSink(commits.sink, commits.outbox);
  const worker = new PartitionWorker(log, {
    name,
    configFile: env.OMEN_CONFIG_FILE,
    hostCollector: !env.OMEN_DISABLE_HOST_COLLECTOR,
    collectIntervalMs: env.OMEN_COLLECT_INTERVAL_MS,
    retentionMs: env.OMEN_RETENTION_DAYS * 86_400_000,
    archiveEveryMs: env.OMEN_SNAPSHOT_INTERVAL_MS,
    snapshotEveryMs: env.OMEN_PARTITION_SNAPSHOT_SECONDS * 1000,
  });
  const unsubscribe = subscribeCommands(log, (cmd) => worker.command(cmd), (m) => console.log(`[worker ${name}] ${m}`));
  await worker.start();
  console.log(`[worker ${name}] scoring partitions of ${log.names.stream} (${env.OMEN_PARTITIONS} partitions, NATS ${env.OMEN_NATS_URL}, pid ${process.pid})`);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[worker ${name}] ${signal}: giving partitions back`);
    unsubscribe();
    await worker.stop().catch((e: Error) => console.error(`[worker ${name}] stop failed: ${e.message}`));
    setCommitSink(null);
    commits.close();
    await log.close();
    await closeDatabase();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}
