import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pool } from "../db";
import { ensureSource } from "../repos/sources-repo";
import { scoredStreamIds } from "../repos/storage/scores";
import { createTestDatabase, type TestDatabase } from "../testing/test-db";
import { freePort, startOmenServer, type OmenServer } from "../testing/omen-server";

/**
 * Real clients end to end: Debian's Prometheus scrapes a real prometheus-node-exporter every
 * second and remote-writes to Omen (`next start` + worker); the node_exporter series must appear
 * as streams and get scored. The same Prometheus then serves query_range to a pull source that
 * the worker backfills and follows. A third target, served by this test, drops a series and
 * brings it back: Prometheus' staleness marker ends the stream and a new sample revives it.
 */
const PROMETHEUS = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";
const NODE_EXPORTER = process.env.NODE_EXPORTER_BIN ?? "/usr/bin/prometheus-node-exporter";

let tdb: TestDatabase;
let omen: OmenServer;
let dir: string;
let promUrl: string;
const children: ChildProcess[] = [];
let childLogs = "";
/** The flapping target's exposition: `flap_gauge` is there while `flapUp`. */
let flapUp = true;
let flapServer: http.Server | undefined;

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
  flapServer = http.createServer((_req, res) => {
    res.setHeader("content-type", "text/plain; version=0.0.4");
    res.end(`flap_keep 1\n${flapUp ? `flap_gauge ${Date.now() % 7}\n` : ""}`);
  });
  await new Promise<void>((r) => flapServer!.listen(0, "127.0.0.1", r));
  const flapPort = (flapServer.address() as { port: number }).port;
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
  - job_name: flap
    static_configs:
      - targets: ["127.0.0.1:${flapPort}"]
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
  flapServer?.close();
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
    }, 90_000); // the worker pulls every 5 s; on a loaded CI machine its job loop can lag far behind that
    expect(c2).toBeGreaterThan(c1);
  }, 300_000);

  it("staleness markers: a series that disappears from its target ends its stream (counted, nothing stored); its return revives it", async () => {
    const flap = await waitFor("the flap_gauge stream with samples", async () => {
      const r = await pool().query<{ id: number; n: number }>(
        "SELECT s.id, (SELECT count(*)::int FROM sample sm WHERE sm.stream_id = s.id) AS n FROM stream s WHERE s.metric = 'flap_gauge' AND s.labels->>'job' = 'flap'",
      );
      return r.rows[0] && r.rows[0].n >= 3 && r.rows[0];
    }, 60_000);
    const markers = async () => {
      const res = await fetch(`${omen.url}/metrics`, { headers: { authorization: `Bearer ${omen.readToken}` } });
      const m = /^omen_ingest_stale_markers_total\{outcome="ended_stream"\} (\d+)/m.exec(await res.text());
      return Number(m?.[1] ?? Number.NaN);
    };
    expect(await markers()).toBe(0);
    flapUp = false;
    const ended = await waitFor("flap_gauge marked ended", async () => {
      const r = await pool().query<{ ended: number | null; last: number }>(
        "SELECT (extract(epoch FROM ended_at) * 1000)::float8 AS ended, (SELECT (extract(epoch FROM max(ts)) * 1000)::float8 FROM sample WHERE stream_id = $1) AS last FROM stream WHERE id = $1",
        [flap.id],
      );
      return r.rows[0]!.ended !== null && r.rows[0]!;
    }, 60_000);
    // the marker comes one scrape after the last sample, and is not stored as one
    expect(ended.ended!).toBeGreaterThan(ended.last);
    expect(ended.ended! - ended.last).toBeLessThan(5_000);
    expect(await markers()).toBeGreaterThanOrEqual(1);
    const nan = await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM sample WHERE stream_id = $1 AND (value = 'NaN'::float8 OR ts >= to_timestamp($2 / 1000.0))", [flap.id, ended.ended]);
    expect(nan.rows[0]!.n).toBe(0);
    // the series comes back: its next samples revive the stream
    flapUp = true;
    await waitFor("flap_gauge revived", async () => {
      const r = await pool().query<{ ended: Date | null; last: Date | null }>("SELECT ended_at AS ended, last_sample_at AS last FROM stream WHERE id = $1", [flap.id]);
      return r.rows[0]!.ended === null && r.rows[0]!.last !== null && r.rows[0]!.last.getTime() > ended.ended! && true;
    }, 60_000);
  });
});
