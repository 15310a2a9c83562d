import crypto from "node:crypto";
import os from "node:os";
import type { CommittedBatch } from "../repos/storage/columns";
import { AppError } from "@/lib/errors/app-error";
import { splitByPartition } from "@/lib/scale/partition";
import { encodeSamples, MAX_SAMPLES_PER_MESSAGE } from "@/lib/scale/sample-message";
import { deleteFromOutbox, foreignOutboxCommits, type OutboxCommit } from "../repos/outbox-repo";
import { BLOCK_SLOTS } from "../repos/storage/sample-blocks";
import { readSamplesAfter } from "../repos/storage/samples";
import type { SampleLog } from "./sample-log";

/** One message of the sample log: one partition's share (or a part of it) of one commit. */
interface LogMessage {
  subject: string;
  data: Uint8Array;
  msgID: string;
}

/** A commit waiting to be published; `msgs` is null for another process's commit until it is read back. */
interface PendingCommit extends OutboxCommit {
  msgs: LogMessage[] | null;
}

/** Messages published at once (in order on the one connection). */
const PUBLISH_WINDOW = 64;
/** Retry of what is queued, and removal of published commits from the outbox. */
const RETRY_EVERY_MS = 2_000;
/**
 * Another process's commit still in the outbox this long after it was recorded is taken over
 * (its owner died, or cannot reach NATS): the publish timeout, so a live owner has had its try.
 * Publishing it twice is harmless (msg-id dedup); too late lets newer samples overtake it.
 */
const ADOPT_AFTER_MS = 5_000;
/** How often a publisher looks (a query on a table that is nearly always empty). */
const ADOPT_EVERY_MS = RETRY_EVERY_MS;
const ADOPT_PAGE = 10_000;

/**
 * The log's messages for a commit, split by partition: the msg-id names the commit's first seq,
 * the partition and the part, so a re-publish (by this process or another, within the log's
 * 2-min duplicate window) is stored once. Built from the commit's samples in block-row order;
 * a commit read back from the database yields the same messages.
 */
export function messagesOf(log: SampleLog, batch: { firstSeq: number; streamIds: Int32Array; tsMs: Float64Array; values: Float64Array }): LogMessage[] {
  const out: LogMessage[] = [];
  for (const [p, rows] of splitByPartition(batch.streamIds, log.config.partitions)) {
    for (let from = 0, part = 0; from < rows.length; from += MAX_SAMPLES_PER_MESSAGE, part++) {
      const idx = rows.slice(from, from + MAX_SAMPLES_PER_MESSAGE);
      const data = encodeSamples({
        streamIds: Int32Array.from(idx, (i) => batch.streamIds[i]!),
        tsMs: Float64Array.from(idx, (i) => batch.tsMs[i]!),
        values: Float64Array.from(idx, (i) => batch.values[i]!),
      });
      out.push({ subject: log.names.subject(p), data, msgID: `${batch.firstSeq}.${p}.${part}` });
    }
  }
  return out;
}

/**
 * A recorded commit's messages, from its block rows read back (in seq order, each row's samples
 * by stream id: the order in which `packSampleRows` handed them to the commit's own publisher).
 */
async function readBackMessages(log: SampleLog, c: OutboxCommit): Promise<LogMessage[]> {
  const s = await readSamplesAfter(c.firstSeq - 1, (c.lastSeq - c.firstSeq + 1) * BLOCK_SLOTS, c.lastSeq);
  return messagesOf(log, { firstSeq: c.firstSeq, streamIds: s.streamIds, tsMs: s.tsMs, values: s.values });
}

/** This process's name in the outbox: unique per publisher, so a restarted process adopts its predecessor's commits. */
function newOwner(): string {
  return `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString("hex")}`;
}

export interface NatsCommitSink {
  sink: (batch: CommittedBatch) => Promise<void>;
  /** the outbox name to give `setCommitSink` with `sink` */
  outbox: string;
  /** commits not yet published (this process's and those it took over) */
  backlog(): number;
  close(): void;
}

/**
 * A process's commit sink with NATS (docs/scale-out.md, "Outbox"): publishes each committed
 * batch, split by partition, and resolves once JetStream has stored every part (then ingest
 * answers 2xx). Each commit was recorded in the outbox in its transaction (`setCommitSink(sink,
 * outbox)`); once published it is deleted from there. Commits not published yet stay queued,
 * in commit order, and go first with the next batch (or the retry timer); while NATS does not
 * take them, ingest answers 503 with Retry-After.
 *
 * Commits another process recorded and did not publish (it died: they were stored, and may have
 * been acknowledged to a retrying client) are taken over: all of them when this publisher
 * starts, later those still there ADOPT_AFTER_MS after they were recorded. They are read back
 * from the database and published before this process's newer commits, so the workers meet
 * every stream's samples in time order.
 */
export function natsCommitSink(log: SampleLog): NatsCommitSink {
  const owner = newOwner();
  /** unpublished commits, by first seq */
  const queue: PendingCommit[] = [];
  /** first seqs of other processes' commits in `queue` */
  const adopted = new Set<number>();
  let adoptedAll = false;
  let nextAdoptAt = 0;
  const published: number[] = [];
  let deleting: Promise<void> | null = null;

  const forgetPublished = () => {
    if (deleting || published.length === 0) return;
    const seqs = published.splice(0);
    deleting = deleteFromOutbox(seqs)
      .catch(() => void published.push(...seqs)) // the database is away: later (a re-publish meanwhile is deduplicated)
      .finally(() => (deleting = null));
  };

  /** Queues a commit in its place by seq (commit order: the order the workers must meet them in). */
  const enqueue = (c: PendingCommit) => {
    let at = queue.length;
    while (at > 0 && queue[at - 1]!.firstSeq > c.firstSeq) at--;
    queue.splice(at, 0, c);
  };

  /** Queues other processes' commits left in the outbox. */
  const adopt = async () => {
    const minAge = adoptedAll ? ADOPT_AFTER_MS : 0;
    let found = 0;
    for (let after = 0; ; ) {
      const page = await foreignOutboxCommits(owner, minAge, after, ADOPT_PAGE);
      for (const c of page) {
        if (adopted.has(c.firstSeq)) continue;
        adopted.add(c.firstSeq);
        enqueue({ ...c, msgs: null });
        found++;
      }
      if (page.length < ADOPT_PAGE) break;
      after = page[page.length - 1]!.firstSeq;
    }
    if (found) console.log(`[sample log] publishing ${found} commit(s) that other processes stored but did not publish`);
    adoptedAll = true;
    nextAdoptAt = Date.now() + ADOPT_EVERY_MS;
  };

  let flushing: Promise<void> | null = null;
  const flush = (): Promise<void> => {
    flushing ??= (async () => {
      try {
        if (!adoptedAll || Date.now() >= nextAdoptAt) await adopt();
        while (queue.length) {
          const head: PendingCommit[] = [];
          let n = 0;
          for (const c of queue) {
            if (head.length && n >= PUBLISH_WINDOW) break;
            c.msgs ??= await readBackMessages(log, c);
            head.push(c);
            n += c.msgs.length;
          }
          await Promise.all(head.flatMap((c) => c.msgs!.map((m) => log.js.publish(m.subject, m.data, { msgID: m.msgID, timeout: 5_000 }))));
          for (const c of head) {
            // by identity: a commit queued meanwhile may have taken a place among them
            queue.splice(queue.indexOf(c), 1);
            adopted.delete(c.firstSeq);
            published.push(c.firstSeq);
          }
          forgetPublished();
        }
      } finally {
        flushing = null;
      }
    })();
    return flushing;
  };

  const timer = setInterval(() => {
    forgetPublished();
    if (queue.length || Date.now() >= nextAdoptAt) flush().catch(() => undefined);
  }, RETRY_EVERY_MS);
  timer.unref();
  // take over what a predecessor left at once, before any commit of this process is published
  flush().catch(() => undefined);

  const sink = async (batch: CommittedBatch): Promise<void> => {
    enqueue({ firstSeq: batch.firstSeq, lastSeq: batch.firstSeq + batch.rowStart.length - 2, msgs: messagesOf(log, batch) });
    try {
      // a flush already running may have started before this batch was queued
      while (queue.length) await flush();
    } catch (e) {
      throw new AppError("UNAVAILABLE", `The sample log (NATS JetStream) is unavailable: ${(e as Error).message}. The samples are stored and will be scored once it is back; retry later.`, {
        retryAfterSeconds: 5,
      });
    }
  };
  return { sink, outbox: owner, backlog: () => queue.length, close: () => clearInterval(timer) };
}
