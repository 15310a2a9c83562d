import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pool } from "../db";
import { ensureSource } from "../repos/sources-repo";
import { scoredStreamIds } from "../repos/scores-repo";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";
import { freePort, startOmenServer, type OmenServer } from "../testing/omen-server";

/**
 * Real clients end to end: Debian's Prometheus scrapes a real prometheus-node-exporter every
 * second and remote-writes to Omen (`next start` + worker); the node_exporter series must appear
 * as streams and get scored. The same Prometheus then serves query_range to a pull source that
 * the worker backfills and follows.
 */
const PROMETHEUS = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";
const NODE_EXPORTER = process.env.NODE_EXPORTER_BIN ?? "/usr/bin/prometheus-node-exporter";

let tdb: TestDatabase;
let omen: OmenServer;
let dir: string;
let promUrl: string;
const children: ChildProcess[] = [];
let childLogs = "";

function startChild(bin: string, args: string[]): ChildProcess {
  const c = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  c.stdout!.on("data", (d) => (childLogs += d));
  c.stderr!.on("data", (d) => (childLogs += d));
  children.push(c);
  return c;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- omen ---\n${omen?.logs().slice(-4000)}\n--- prometheus ---\n${childLogs.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

beforeAll(async () => {
  for (const bin of [PROMETHEUS, NODE_EXPORTER]) {
    if (!fs.existsSync(bin)) throw new Error(`${bin} not found: install the Debian packages prometheus and prometheus-node-exporter (.ci/run does).`);
  }
  tdb = await createTestDatabase();
  omen = await startOmenServer({ databaseUrl: tdb.url, worker: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "omen-prom-"));
  const nodePort = await freePort();
  startChild(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${nodePort}`]);
  const promPort = await freePort();
  promUrl = `http://127.0.0.1:${promPort}`;
  const config = `
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:${nodePort}"]
remote_write:
  - url: ${omen.url}/api/v1/write
    authorization:
      type: Bearer
      credentials: ${omen.token}
    queue_config:
      batch_send_deadline: 1s
      max_samples_per_send: 2000
      min_backoff: 100ms
      max_backoff: 1s
    metadata_config:
      send_interval: 5s
`;
  fs.writeFileSync(path.join(dir, "prometheus.yml"), config);
  startChild(PROMETHEUS, [
    `--config.file=${path.join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${path.join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ]);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once("exit", r)))));
  await omen?.stop();
  await tdb?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("Prometheus → Omen", () => {
  it("remote_write: node_exporter series appear as streams and get scored", async () => {
    const streams = await waitFor("node_exporter streams", async () => {
      const r = await pool().query<{ n: number }>(
        "SELECT count(*)::int AS n FROM stream s JOIN source src ON src.id = s.source_id WHERE src.name = 'prometheus' AND s.metric LIKE 'node\\_%'",
      );
      return r.rows[0]!.n > 50 && r.rows[0]!.n;
    });
    expect(streams).toBeGreaterThan(50);
    const kinds = await pool().query<{ key: string; kind: string; labels: Record<string, string> }>(
      "SELECT key, kind::text AS kind, labels FROM stream WHERE metric IN ('node_cpu_seconds_total', 'node_load1') ORDER BY key LIMIT 50",
    );
    const cpu = kinds.rows.find((r) => r.key.startsWith("node_cpu_seconds_total"));
    expect(cpu?.kind).toBe("counter");
    expect(cpu?.labels).toMatchObject({ job: "node" });
    expect(kinds.rows.find((r) => r.key.startsWith("node_load1"))?.kind).toBe("gauge");
    const scored = await waitFor("scores for node_exporter streams", async () => {
      const r = await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM stream WHERE id = ANY($1::int[]) AND metric LIKE 'node\\_%'", [await scoredStreamIds()]);
      return r.rows[0]!.n > 50 && r.rows[0]!.n;
    });
    expect(scored).toBeGreaterThan(50);
  });

  it("pull: query_range backfills history from the same Prometheus, then follows", async () => {
    // Give Prometheus some history before the source exists, so "backfilled" is measurable.
    await waitFor("8 s of Prometheus history", async () => {
      const r = await pool().query<{ t: number | null }>(
        "SELECT (extract(epoch FROM min(sm.ts)) * 1000)::float8 AS t FROM sample sm JOIN stream s ON s.id = sm.stream_id JOIN source src ON src.id = s.source_id WHERE src.name = 'prometheus' AND s.metric = 'node_load1'",
      );
      const t = r.rows[0]?.t;
      return t !== null && t !== undefined && Date.now() - t > 8_000;
    }, 60_000);
    const src = await ensureSource("prom-pull", "prometheus_pull", {
      baseUrl: promUrl,
      queries: [{ query: "node_load1" }, { query: "sum by (mode) (rate(node_cpu_seconds_total[5s]))", name: "node_cpu_rate" }],
      stepSeconds: 1,
      backfillDays: 0.001,
    });
    const first = await waitFor("pulled samples", async () => {
      const r = await pool().query<{ n: number; metrics: string[]; min: number }>(
        `SELECT count(*)::int AS n, array_agg(DISTINCT s.metric) AS metrics, (extract(epoch FROM min(sm.ts)) * 1000)::float8 AS min
         FROM sample sm JOIN stream s ON s.id = sm.stream_id WHERE s.source_id = $1`,
        [src.id],
      );
      const row = r.rows[0]!;
      return row.n > 20 && row.metrics.length === 2 && row;
    }, 60_000);
    expect(first.metrics.sort()).toEqual(["node_cpu_rate", "node_load1"]);
    const modes = await pool().query<{ key: string }>("SELECT key FROM stream WHERE source_id = $1 AND metric = 'node_cpu_rate'", [src.id]);
    expect(modes.rows.map((r) => r.key)).toContain('node_cpu_rate{mode="idle"}');
    // the backfill reaches back to the start of Prometheus' history (its first scrapes, which
    // remote_write delivered too), i.e. before the pull source existed
    const rw = await pool().query<{ t: number }>(
      "SELECT (extract(epoch FROM min(sm.ts)) * 1000)::float8 AS t FROM sample sm JOIN stream s ON s.id = sm.stream_id JOIN source src ON src.id = s.source_id WHERE src.name = 'prometheus' AND s.metric = 'node_load1'",
    );
    const created = await pool().query<{ t: number }>("SELECT (extract(epoch FROM created_at) * 1000)::float8 AS t FROM source WHERE id = $1", [src.id]);
    expect(first.min).toBeLessThan(created.rows[0]!.t - 2_000);
    expect(Math.abs(first.min - rw.rows[0]!.t)).toBeLessThan(3_000);
    const cfg = await pool().query<{ config: { cursorMs?: number; lastError?: string | null } }>("SELECT config FROM source WHERE id = $1", [src.id]);
    expect(cfg.rows[0]!.config.lastError ?? null).toBeNull();
    const c1 = cfg.rows[0]!.config.cursorMs!;
    const c2 = await waitFor("the pull cursor to advance", async () => {
      const r = await pool().query<{ config: { cursorMs?: number } }>("SELECT config FROM source WHERE id = $1", [src.id]);
      const c = r.rows[0]!.config.cursorMs ?? 0;
      return c > c1 && c;
    }, 30_000);
    expect(c2).toBeGreaterThan(c1);
  });
});
