import type { TEnv } from "../../env";
import { openSampleLog } from "../../nats/sample-log";
import { PartitionWorker } from "./partition-worker";

/**
 * The worker process in the scale-out group (OMEN_NATS_URL set): scores its share of the
 * partitions of the JetStream sample log until SIGTERM/SIGINT, then gives them back.
 */
export async function runPartitionWorker(env: TEnv, closeDatabase: () => Promise<void>): Promise<void> {
  const name = env.OMEN_WORKER_NAME;
  const log = await openSampleLog({ url: env.OMEN_NATS_URL!, prefix: env.OMEN_NATS_PREFIX, partitions: env.OMEN_PARTITIONS }, `omen-worker ${name}`);
  const worker = new PartitionWorker(log, { name });
  await worker.start();
  console.log(`[worker ${name}] scoring partitions of ${log.names.stream} (${env.OMEN_PARTITIONS} partitions, NATS ${env.OMEN_NATS_URL}, pid ${process.pid})`);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[worker ${name}] ${signal}: giving partitions back`);
    await worker.stop().catch((e: Error) => console.error(`[worker ${name}] stop failed: ${e.message}`));
    await log.close();
    await closeDatabase();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}
