import { connect, nanos, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { logNames } from "@/lib/scale/log-names";

/**
 * The JetStream side of scale-out (docs/scale-out.md): one stream, the sample log, with one
 * subject per partition (`<prefix>.samples.<n>`), one durable consumer per partition, and a KV
 * bucket of partition leases and worker presence.
 */
export interface SampleLogConfig {
  url: string;
  prefix: string;
  partitions: number;
}

export { logNames } from "@/lib/scale/log-names";

/** How long messages stay in the log: far longer than the longest partition snapshot interval (OMEN_PARTITION_SNAPSHOT_SECONDS, at most 1 h), since a new owner replays every message after its snapshot. */
const LOG_MAX_AGE_MS = 24 * 3_600_000;
/** A lease not renewed for this long expires (the KV bucket's TTL). */
export const LEASE_TTL_MS = 15_000;
/**
 * A delivered message not acknowledged for this long is delivered again. Messages are
 * acknowledged once their scores are written (not at the snapshot, however far apart
 * snapshots are); a new owner recreates the consumer at its snapshot anyway, so this only
 * bounds a stuck owner.
 */
const ACK_WAIT_MS = 120_000;

export interface SampleLog {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  leases: KV;
  config: SampleLogConfig;
  names: ReturnType<typeof logNames>;
  close(): Promise<void>;
}

/** Connects and makes sure the stream and the lease bucket exist (idempotent, any process may). */
export async function openSampleLog(config: SampleLogConfig, name: string): Promise<SampleLog> {
  const nc = await connect({ servers: config.url, name, maxReconnectAttempts: -1, reconnectTimeWait: 1_000 });
  const jsm = await jetstreamManager(nc);
  const names = logNames(config.prefix);
  const want = { name: names.stream, subjects: [`${config.prefix}.samples.*`], retention: RetentionPolicy.Limits, max_age: nanos(LOG_MAX_AGE_MS), duplicate_window: nanos(120_000) };
  try {
    await jsm.streams.info(names.stream);
  } catch {
    await jsm.streams.add(want).catch(async (e: unknown) => {
      // another process created it meanwhile
      await jsm.streams.info(names.stream).catch(() => {
        throw e;
      });
    });
  }
  const leases = await new Kvm(nc).create(names.leases, { ttl: LEASE_TTL_MS, history: 1 });
  return {
    nc,
    js: jetstream(nc),
    jsm,
    leases,
    config,
    names,
    close: async () => {
      await nc.drain().catch(() => nc.close());
    },
  };
}

/** Removes everything of a prefix (tests, or a fresh start with another partition count). */
export async function destroySampleLog(log: SampleLog): Promise<void> {
  await log.jsm.streams.delete(log.names.stream).catch(() => undefined);
  await log.leases.destroy().catch(() => undefined);
}

/**
 * An ordered (ephemeral, unacknowledged) reader of partition `p`'s messages after `afterSeq`:
 * what a new owner relearns between its snapshot and the partition cursor. Read apart from the
 * durable consumer so that these messages, scored before, never count as its pending work.
 */
export function partitionReplayReader(log: SampleLog, p: number, afterSeq: number) {
  return log.js.consumers.get(log.names.stream, {
    filter_subjects: log.names.subject(p),
    ...(afterSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: afterSeq + 1 } : { deliver_policy: DeliverPolicy.All }),
  });
}

/**
 * (Re)creates partition `p`'s durable consumer starting after `afterSeq`. A new owner does
 * this once it has relearned up to the partition cursor (`partitionReplayReader`): from then on
 * the consumer holds exactly the messages not scored yet, whether the previous owner
 * acknowledged them or not, and its unacknowledged count means "not scored yet" (back-pressure,
 * /api/health).
 */
export async function resetPartitionConsumer(log: SampleLog, p: number, afterSeq: number) {
  const durable = log.names.consumer(p);
  await log.jsm.consumers.delete(log.names.stream, durable).catch(() => undefined);
  await log.jsm.consumers.add(log.names.stream, {
    durable_name: durable,
    filter_subject: log.names.subject(p),
    ack_policy: AckPolicy.All,
    ack_wait: nanos(ACK_WAIT_MS),
    max_ack_pending: -1,
    ...(afterSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: afterSeq + 1 } : { deliver_policy: DeliverPolicy.All }),
  });
  return log.js.consumers.get(log.names.stream, durable);
}
