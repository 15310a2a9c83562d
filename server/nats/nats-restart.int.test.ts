import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors/app-error";
import { decodeSamples } from "@/lib/scale/sample-message";
import { ingestErrorReply } from "../http/reply";
import { countSamples } from "../repos/storage/samples";
import { setCommitSink } from "../services/ingest/group-commit";
import { ingestSeries, type IncomingSeries } from "../services/ingest/ingest-service";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";
import { freePort } from "../testing/omen-server";
import { openSampleLog, type SampleLog } from "./sample-log";
import { natsCommitSink } from "./commit-publisher";

/**
 * NATS restarted under ingest, on a private nats-server (the shared one cannot be restarted):
 * while it is down ingest answers 503 with Retry-After; after it is back every stored sample
 * is in the log, nothing acknowledged is lost, nothing is published twice.
 */
const NATS_BIN = "/usr/sbin/nats-server";
const missing = fs.existsSync(NATS_BIN) ? null : `${NATS_BIN} is not installed`;
if (missing) console.log(`[nats-restart] skipped: ${missing}`);

describe.skipIf(Boolean(missing))("NATS restart under ingest", () => {
  let tdb: TestDatabase;
  let server: ChildProcess | null = null;
  let log: SampleLog;
  let sink: ReturnType<typeof natsCommitSink>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omen-nats-"));
  let port = 0;

  const startNats = async () => {
    server = spawn(NATS_BIN, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dir], { stdio: "ignore" });
    // wait for the port
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((r) => {
        const s = net.connect(port, "127.0.0.1");
        s.once("connect", () => (s.end(), r(true)));
        s.once("error", () => r(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("nats-server did not start");
  };
  const stopNats = async () => {
    const s = server;
    server = null;
    if (!s || s.exitCode !== null) return;
    await new Promise((r) => {
      s.once("exit", r);
      s.kill("SIGKILL");
    });
  };

  beforeAll(async () => {
    port = await freePort();
    await startNats();
    tdb = await createTestDatabase();
    log = await openSampleLog({ url: `nats://127.0.0.1:${port}`, prefix: "omen_restart", partitions: 4 }, "restart test");
    sink = natsCommitSink(log);
    setCommitSink(sink.sink, sink.outbox);
  });
  afterAll(async () => {
    setCommitSink(null);
    sink?.close();
    await log?.nc.close().catch(() => undefined);
    await stopNats();
    await tdb?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const t0 = Math.floor(Date.now() / 10_000) * 10_000 - 600_000;
  const batch = (k: number): IncomingSeries[] =>
    Array.from({ length: 20 }, (_, i) => ({ metric: "restart_test", labels: { i: String(i) }, kind: "gauge", tsMs: [t0 + k * 10_000], values: [i + k] }));

  it("answers 503 + Retry-After while NATS is down and loses nothing acknowledged", async () => {
    let acknowledged = 0;
    let refused = 0;
    let retryAfter = "";
    const send = async (k: number) => {
      try {
        // a retried request whose samples were stored by the refused attempt inserts 0 but is acknowledged whole
        acknowledged += (await ingestSeries("restart", "remote_write", batch(k), t0 + k * 10_000 + 1_000)).received;
      } catch (e) {
        expect(isAppError(e) && e.status === 503).toBe(true);
        const reply = ingestErrorReply(e, 503);
        expect(reply.status).toBe(503);
        retryAfter = reply.headers["Retry-After"] ?? "";
        refused++;
      }
    };
    for (let k = 0; k < 10; k++) await send(k);
    expect(acknowledged).toBe(200);
    await stopNats();
    for (let k = 10; k < 12; k++) await send(k);
    expect(refused).toBe(2);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    await startNats();
    // the client reconnects; the retry timer publishes the queued parts, new batches go through
    for (let k = 12; k < 20; k++) {
      for (let attempt = 0; attempt < 20; attempt++) {
        const before = refused;
        await send(k);
        if (refused === before) break;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    expect(sink.backlog()).toBe(0);
    const stored = await countSamples();
    // every stored sample is in the log exactly once (the refused batches' too)
    const info = await log.jsm.streams.info(log.names.stream);
    let logged = 0;
    for (let seq = 1; seq <= info.state.last_seq; seq++) {
      const m = await log.jsm.streams.getMessage(log.names.stream, { seq });
      logged += decodeSamples(m!.data)!.streamIds.length;
    }
    console.log(`[nats-restart] acknowledged ${acknowledged}, refused requests ${refused} (Retry-After ${retryAfter} s), stored ${stored}, in the log ${logged}`);
    expect(acknowledged).toBe(18 * 20);
    expect(stored).toBe(20 * 20);
    expect(logged).toBe(stored);
  });
});
