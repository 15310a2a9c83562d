import type { LogBacklog } from "../services/ingest/ingest-service";
import type { SampleLog } from "./sample-log";

/**
 * How far the scoring workers are behind the sample log, from its partitions' durable
 * consumers in one request: per partition, the messages not delivered yet (`num_pending`) plus
 * those delivered but not acknowledged (`num_ack_pending`: a worker acknowledges a run of
 * messages once their scores are written, so these are fetched but not scored yet, e.g. all of
 * a frozen worker's). A partition whose owner died keeps its consumer, so its backlog counts
 * until a new owner catches up; a new owner relearns the messages between the partition's
 * snapshot and its cursor (scored before) with a reader of its own and recreates the consumer
 * after the cursor, so they never count. Per partition too (/api/health tells a stuck
 * partition by it).
 */
export async function readLogBacklog(log: SampleLog): Promise<LogBacklog> {
  let pending = 0;
  let worst: LogBacklog["worst"] = null;
  const partitions: LogBacklog["partitions"] = [];
  const prefix = log.names.consumer(0).slice(0, -1);
  for await (const ci of log.jsm.consumers.list(log.names.stream)) {
    const partition = Number(ci.name.slice(prefix.length));
    if (!ci.name.startsWith(prefix) || !Number.isInteger(partition)) continue;
    const n = ci.num_pending + ci.num_ack_pending;
    pending += n;
    partitions.push({ partition, pending: n });
    if (!worst || n > worst.pending) worst = { partition, pending: n };
  }
  return { pending, worst, partitions: partitions.sort((a, b) => a.partition - b.partition) };
}
