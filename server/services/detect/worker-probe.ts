import http from "node:http";
import os from "node:os";
import { AppError } from "@/lib/errors/app-error";
import { processGlobal } from "../../process-global";
import { readWorkerStatus } from "../../repos/worker-status-repo";
import { PROBE_PATH, ZProbeResponse, type TProbeRequest, type TProbeResult } from "./probe-wire";

const TIMEOUT_MS = 2_000;
const ENDPOINT_CACHE_MS = 5_000;

const state = processGlobal("worker-probe", () => ({
  agent: new http.Agent({ keepAlive: true, maxSockets: 8 }),
  endpoint: undefined as { atMs: number; value: Promise<{ port: number; secret: string } | null> } | undefined,
}));

/**
 * The one live worker's loopback endpoint on this host, from its heartbeat (the hand-off
 * endpoint, server/worker/handoff.ts), cached for a few seconds; null when none is reachable.
 */
function workerEndpoint(): Promise<{ port: number; secret: string } | null> {
  const now = Date.now();
  if (!state.endpoint || now - state.endpoint.atMs > ENDPOINT_CACHE_MS) {
    const value = readWorkerStatus()
      .then((workers) => {
        const live = workers.filter((w) => Date.now() - w.heartbeatAtMs < 30_000);
        if (live.length !== 1 || live[0]!.info.host !== os.hostname()) return null;
        const h = live[0]!.info.handoff as { port?: unknown; secret?: unknown } | undefined;
        return h && typeof h.port === "number" && typeof h.secret === "string" ? { port: h.port, secret: h.secret } : null;
      })
      .catch(() => null);
    state.endpoint = { atMs: now, value };
  }
  return state.endpoint.value;
}

function forgetWorkerEndpoint(): void {
  state.endpoint = undefined;
}

/**
 * Asks the live worker to score values on copies of its models (its loopback hand-off
 * endpoint, `PROBE_PATH`). The worker answers between detection steps, without queueing behind
 * its backlog; its models are not changed.
 */
export async function probeWorker(req: TProbeRequest): Promise<TProbeResult[]> {
  const ep = await workerEndpoint();
  if (!ep) {
    throw new AppError("UNAVAILABLE", "The detection worker is not running (or runs on another machine), so there are no live models to score with. Start Omen with `npm start`, or `npm run worker`, and retry.");
  }
  const body = JSON.stringify(req);
  const text = await new Promise<string>((resolve, reject) => {
    const r = http.request(
      {
        host: "127.0.0.1",
        port: ep.port,
        path: PROBE_PATH,
        method: "POST",
        agent: state.agent,
        timeout: TIMEOUT_MS,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${ep.secret}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const t = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode === 200) resolve(t);
          else reject(new Error(`worker answered ${res.statusCode}${t ? `: ${t.slice(0, 200)}` : ""}`));
        });
        res.on("error", reject);
      },
    );
    r.on("timeout", () => r.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    r.on("error", reject);
    r.end(body);
  }).catch((e: Error) => {
    forgetWorkerEndpoint();
    throw new AppError("UNAVAILABLE", `The detection worker could not score the values (${e.message}). Retry in a few seconds.`);
  });
  return ZProbeResponse.parse(JSON.parse(text)).results;
}
