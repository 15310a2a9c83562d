import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countOutbox } from "../repos/outbox-repo";
import { insertSamplesReturning } from "../repos/storage/samples";
import { natsUnreachable, waitFor } from "../testing/scale-out-workers";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";
import { messagesOf, natsCommitSink } from "./commit-publisher";
import { destroySampleLog, openSampleLog, type SampleLog } from "./sample-log";

/**
 * The outbox's read-back (machine's NATS and PostgreSQL): commits recorded by a process that
 * died before publishing are published by the next publisher as the very messages their own
 * process would have sent (same msg-ids, same bodies, in commit order), so a late publish by
 * the original owner is deduplicated, and the outbox empties.
 */
const NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const unreachable = await natsUnreachable(NATS_URL);
const hasPostgres = Boolean(process.env.TEST_DATABASE_URL);
if (unreachable) console.log(`[commit-publisher] skipped: NATS at ${NATS_URL} is unreachable (${unreachable}); set TEST_NATS_URL`);
if (!hasPostgres) console.log("[commit-publisher] skipped: needs TEST_DATABASE_URL (PostgreSQL)");

describe.skipIf(Boolean(unreachable) || !hasPostgres)("outbox: commits left by a dead process", () => {
  let tdb: TestDatabase;
  let log: SampleLog;
  const prefix = `omen_t_${crypto.randomBytes(4).toString("hex")}`;

  beforeAll(async () => {
    tdb = await createTestDatabase("postgres");
    log = await openSampleLog({ url: NATS_URL, prefix, partitions: 4 }, "omen outbox test");
  });
  afterAll(async () => {
    if (log) {
      await destroySampleLog(log);
      await log.close();
    }
    await tdb?.drop();
  });

  it("are published as their own process would have, once, before anything newer", async () => {
    // two commits of a process that then died: several blocks and timestamps each, sent out of order
    const commit = async (t0: number, owner: string) => {
      const n = 300;
      const streamIds = Int32Array.from({ length: n }, (_, i) => 1 + ((i * 37) % 100));
      const tsMs = Float64Array.from({ length: n }, (_, i) => t0 + 10_000 * Math.floor(i / 100));
      const values = Float64Array.from({ length: n }, (_, i) => i * 1.5);
      const { committed } = await insertSamplesReturning({ streamIds, tsMs, values }, false, false, owner);
      return committed!;
    };
    const left = [await commit(1_700_000_000_000, "a-dead-process"), await commit(1_700_000_100_000, "a-dead-process")];
    expect(await countOutbox()).toBe(2);

    // the next publisher, and a commit of its own at once
    const sink = natsCommitSink(log);
    const own = await commit(1_700_000_200_000, sink.outbox);
    try {
      await sink.sink(own);
      await waitFor("the outbox to empty", async () => (await countOutbox()) === 0, 20_000);
    } finally {
      sink.close();
    }
    const expected = [...left, own].flatMap((b) => messagesOf(log, b));
    const stored = await Promise.all(expected.map((_, i) => log.jsm.streams.getMessage(log.names.stream, { seq: i + 1 })));
    expect(stored.map((m) => [m?.subject, m?.header.get("Nats-Msg-Id"), m && Buffer.from(m.data).toString("base64")])).toEqual(
      expected.map((m) => [m.subject, m.msgID, Buffer.from(m.data).toString("base64")]),
    );

    // the dead process's own publish, had it come late (within the log's duplicate window), adds nothing
    for (const m of expected) await log.js.publish(m.subject, m.data, { msgID: m.msgID });
    expect((await log.jsm.streams.info(log.names.stream)).state.messages).toBe(expected.length);
  });
});
