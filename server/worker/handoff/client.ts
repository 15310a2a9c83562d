import http from "node:http";
import os from "node:os";
import type { CommitSink, CommittedBatch } from "@/lib/ingest/committed-batch";
import { readWorkerStatus } from "../../repos/worker-status-repo";
import type { TWorkerCommand } from "../../services/commands/worker-commands";
import { COMMAND_PATH, encodeBatch, HANDOFF_PATH, type HandoffEndpoint } from "./protocol";

/**
 * The web process's side of the hand-off: a commit sink that posts each committed batch to the
 * worker's loopback endpoint (server.ts), found through the worker's heartbeat. Best effort by
 * design: when no single live worker on this host publishes an endpoint, or a post fails, the
 * batch is dropped and the worker reads the samples from the database.
 */
const ENDPOINT_CACHE_MS = 5_000;

/** The endpoint of the one live worker on this host, from `worker_status` (null otherwise). */
export async function liveHandoffEndpoint(): Promise<HandoffEndpoint | null> {
  const workers = await readWorkerStatus();
  const live = workers.filter((w) => Date.now() - w.heartbeatAtMs < 30_000);
  // one worker scores everything; with several (unusual), or one on another machine (the
  // endpoint is loopback-only), the hand-off is skipped
  if (live.length !== 1 || live[0]!.info.host !== os.hostname()) return null;
  const h = live[0]!.info.handoff as Partial<HandoffEndpoint> | undefined;
  return h && typeof h.port === "number" && typeof h.secret === "string" ? { port: h.port, secret: h.secret } : null;
}

export interface HandoffClient {
  sink: CommitSink;
  /** Posts a web → worker command; resolves when the worker has taken it (rejects otherwise). */
  command(cmd: TWorkerCommand): Promise<void>;
  close(): void;
}

export function createHandoffClient(findEndpoint: () => Promise<HandoffEndpoint | null> = liveHandoffEndpoint): HandoffClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let endpoint: { atMs: number; value: Promise<HandoffEndpoint | null> } | undefined;

  const lookup = (): Promise<HandoffEndpoint | null> => {
    const now = Date.now();
    if (!endpoint || now - endpoint.atMs > ENDPOINT_CACHE_MS) {
      endpoint = { atMs: now, value: findEndpoint().catch(() => null) };
    }
    return endpoint.value;
  };

  const command = async (cmd: TWorkerCommand): Promise<void> => {
    const ep = await lookup();
    if (!ep) throw new Error("no live worker on this host");
    const body = Buffer.from(JSON.stringify(cmd));
    await new Promise<void>((resolve, reject) => {
      const req = http.request({
        host: "127.0.0.1",
        port: ep.port,
        path: COMMAND_PATH,
        method: "POST",
        agent,
        timeout: 2_000,
        headers: { "content-type": "application/json", "content-length": body.length, authorization: `Bearer ${ep.secret}` },
      });
      req.on("response", (res) => {
        res.resume();
        if (res.statusCode === 204) resolve();
        else reject(new Error(`worker answered ${res.statusCode}`));
      });
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", (e) => {
        endpoint = undefined;
        reject(e);
      });
      req.end(body);
    });
  };

  const sink = (batch: CommittedBatch): void => {
    if (batch.streamIds.length === 0) return;
    void lookup().then((ep) => {
      if (!ep) return;
      const body = encodeBatch(batch);
      const req = http.request({
        host: "127.0.0.1",
        port: ep.port,
        path: HANDOFF_PATH,
        method: "POST",
        agent,
        timeout: 2_000,
        headers: { "content-type": "application/octet-stream", "content-length": body.length, authorization: `Bearer ${ep.secret}` },
      });
      req.on("response", (res) => res.resume());
      req.on("timeout", () => req.destroy());
      req.on("error", () => {
        endpoint = undefined; // look the worker up again (it may have restarted on another port)
      });
      req.end(body);
    });
  };
  return { sink, command, close: () => agent.destroy() };
}
