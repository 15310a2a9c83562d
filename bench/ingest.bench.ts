/**
 * `npm run bench:ingest`: Prometheus remote_write throughput, end to end.
 *
 * Omen (next start + worker, fresh PostgreSQL database): samples/s from the first request until
 * every sample is committed AND scored by the worker (every sample's score stored). Reference, in
 * the same run with identical requests: Prometheus' own receiver
 * (`--web.enable-remote-write-receiver`, fresh TSDB), samples/s until every request got 2xx.
 *
 * Traffic is shaped like Prometheus' own remote_write: every round is one scrape (all series at
 * one timestamp, 10 s apart, the last one just before "now": the worker holds back steps ahead
 * of the wall clock, so data in the future would time the clock), split over `--concurrency` shards that each own
 * a fixed set of series; a round is sent when the previous one was acknowledged. A warm-up
 * round first creates the streams (untimed), and one extra round at the end closes the last
 * step (the worker scores a step once a later one exists); neither is counted. Requests are snappy+protobuf encoded before timing; 429/503 are retried after
 * Retry-After.
 *
 * Options: --series 20000 --steps 30 --concurrency 4 --runs 3 --skip-prometheus
 *
 * A run takes ~5 s of traffic, and the same run measured ±30 % apart on this machine (shared
 * cores), so the bench repeats it (`--runs`, each with a fresh database, Omen and Prometheus) and
 * the verdict uses the medians.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { encodeWriteRequest } from "../lib/ingest/remote-write";
import { cpuMsByCommand, cpuMsOfPid, cpuMsOfTrees, machineBusyMs, peakRssMbOfPid, peakRssMbOfTrees } from "./lib/proc-cpu";
import { createTestDatabase } from "../server/testing/test-db";
import { freePort, startOmenServer } from "../server/testing/omen-server";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const SERIES = arg("series", 20_000);
const STEPS = arg("steps", 30);
const CONCURRENCY = arg("concurrency", 4);
const RUNS = Math.max(1, Math.floor(arg("runs", 3)));
const SKIP_PROM = process.argv.includes("--skip-prometheus");
/** --no-worker: measure received → committed only (no scoring competing for the CPU). */
const NO_WORKER = process.argv.includes("--no-worker");
/** --workers 1|2|1,2: also score through NATS JetStream with that many scale-out workers (TEST_NATS_URL, default nats://127.0.0.1:4222). */
const NATS_WORKERS = (() => {
  const i = process.argv.indexOf("--workers");
  return i > 0 ? (process.argv[i + 1] ?? "").split(/[,|]/).map(Number).filter((n) => Number.isInteger(n) && n > 0) : [];
})();
const STEP_MS = 10_000;
/** PostgreSQL's backends, for CPU accounting (Omen's own processes are counted by pid). */
const POSTGRES_PATTERN = /^postgres: /;
const TOTAL = SERIES * STEPS;

/** rounds[r][lane] = one encoded request (all of the lane's series at round r's timestamp). */
type Rounds = Uint8Array[][];

function buildRequests(baseMs: number): Rounds {
  const perLane = Math.ceil(SERIES / CONCURRENCY);
  const labelsOf = (i: number) => [
    { name: "__name__", value: ["node_cpu_seconds_total", "node_memory_Active_bytes", "http_requests_total", "http_request_duration_seconds"][i % 4]! },
    { name: "instance", value: `host-${Math.floor(i / 40)}:9100` },
    { name: "job", value: "bench" },
    { name: "cpu", value: String(i % 8) },
    { name: "mode", value: ["idle", "user", "system", "iowait", "irq"][Math.floor(i / 8) % 5]! },
  ];
  const labels = Array.from({ length: SERIES }, (_, i) => labelsOf(i));
  const rounds: Rounds = [];
  for (let s = 0; s <= STEPS + 1; s++) {
    const t = baseMs + s * STEP_MS;
    const round: Uint8Array[] = [];
    for (let l = 0; l < CONCURRENCY; l++) {
      const timeseries = [];
      for (let i = l * perLane; i < Math.min(SERIES, (l + 1) * perLane); i++) {
        timeseries.push({ labels: labels[i]!, samples: [{ timestamp: t, value: 100 + 10 * Math.sin(s / 6 + i) + ((i * 7919 + s * 104729) % 1000) / 1000 }] });
      }
      round.push(encodeWriteRequest({ timeseries }));
    }
    rounds.push(round);
  }
  return rounds;
}

async function post(url: string, body: Uint8Array, headers: Record<string, string>): Promise<number> {
  let retries = 0;
  for (;;) {
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-protobuf", "content-encoding": "snappy", "x-prometheus-remote-write-version": "0.1.0", ...headers },
        body: Buffer.from(body),
      });
    } catch (e) {
      // a pooled keep-alive socket the server already closed: retry, as Prometheus does
      if (++retries > 5) throw e;
      continue;
    }
    const text = await res.text();
    if (res.status >= 200 && res.status < 300) return retries;
    if (res.status === 429 || res.status >= 500) {
      retries++;
      await new Promise((r) => setTimeout(r, Math.min(2, Number(res.headers.get("retry-after") ?? 1)) * 1000));
      continue;
    }
    throw new Error(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
  }
}

/**
 * Sends round after round. Round 0 is a warm-up (creates the streams, as a long-running
 * Prometheus' series already exist) and is not timed; the last round only closes the last step.
 * Returns the time from the first counted round until the last counted one was acknowledged.
 */
async function send(
  url: string,
  rounds: Rounds,
  headers: Record<string, string>,
  afterWarmup: () => Promise<void> = async () => undefined,
): Promise<{ tStart: number; tCommitted: number; retries: number }> {
  let retries = 0;
  await Promise.all(rounds[0]!.map((b) => post(url, b, headers)));
  await afterWarmup();
  const tStart = performance.now();
  let tCommitted = tStart;
  for (let r = 1; r < rounds.length; r++) {
    const n = await Promise.all(rounds[r]!.map((b) => post(url, b, headers)));
    retries += n.reduce((a, b) => a + b, 0);
    if (r === rounds.length - 2) tCommitted = performance.now();
  }
  return { tStart, tCommitted, retries };
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs: number, pollMs = 100): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return performance.now();
}

/**
 * Scores at one timestamp (score blocks: one row per 32 stream ids and timestamp, `mask` bits
 * the scored streams), looked up through the (block, ts) index for every block of the
 * benchmark's streams: exact, and a few ms, where a whole-table count polled 5 times a second
 * would add to the CPU the bench measures.
 */
const SCORED = "SELECT coalesce(sum(bit_count(mask::bit(32))), 0) AS n FROM score_block";
async function scoredAt(admin: pg.Client, tsMs: number): Promise<number> {
  const res = await admin.query(`${SCORED} WHERE block IN (SELECT DISTINCT id / 32 FROM stream) AND ts = to_timestamp($1 / 1000.0)`, [tsMs]);
  return Number(res.rows[0].n);
}

async function startPrometheus(): Promise<{ url: string; peakRssMb(): number | null; stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omen-bench-prom-"));
  fs.writeFileSync(path.join(dir, "prometheus.yml"), "global:\n  scrape_interval: 1h\n");
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus",
    [`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--web.enable-remote-write-receiver"],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor("prometheus ready", async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.status === 200, 30_000, 200);
  return {
    url,
    peakRssMb: () => (child.pid === undefined ? null : peakRssMbOfPid(child.pid)),
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** CPU ms per PostgreSQL backend, labelled by who holds it (Omen's web or worker pool, autovacuum, …). */
async function backendCpu(admin: pg.Client): Promise<Map<number, { who: string; ms: number }>> {
  const rows = (await admin.query("SELECT pid, coalesce(nullif(application_name, ''), backend_type) AS who FROM pg_stat_activity")).rows as { pid: number; who: string }[];
  const out = new Map<number, { who: string; ms: number }>();
  for (const r of rows) {
    const ms = cpuMsOfPid(r.pid);
    if (ms !== null) out.set(r.pid, { who: r.who, ms });
  }
  return out;
}

function backendBreakdown(before: Map<number, { who: string; ms: number }>, after: Map<number, { who: string; ms: number }>): Record<string, number> {
  const by: Record<string, number> = {};
  for (const [pid, a] of after) by[a.who] = (by[a.who] ?? 0) + a.ms - (before.get(pid)?.ms ?? 0);
  return by;
}

/** Rows written per table (pg_stat_user_tables: inserts, updates, of those HOT). */
async function tableWrites(admin: pg.Client): Promise<Map<string, [number, number, number]>> {
  const rows = (await admin.query("SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables")).rows as Record<string, string>[];
  return new Map(rows.map((r) => [r.relname!, [Number(r.n_tup_ins), Number(r.n_tup_upd), Number(r.n_tup_hot_upd)]]));
}

function writesLine(before: Map<string, [number, number, number]>, after: Map<string, [number, number, number]>): string {
  const parts: string[] = [];
  for (const [t, a] of after) {
    const b = before.get(t) ?? [0, 0, 0];
    const [ins, upd, hot] = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    if (ins + upd > 0) parts.push(`${t} ${fmt(ins)}${upd ? ` + ${fmt(upd)} upd (${fmt(hot)} HOT)` : ""}`);
  }
  return parts.sort().join(", ");
}

interface RunResult {
  committed: number;
  scored: number | null;
  prometheus: number | null;
  /** web process CPU µs per counted sample */
  webUs: number;
}

async function runOnce(): Promise<RunResult> {
  let baseMs = 0;
  const build = () => {
    const tb = performance.now();
    // the closing round (STEPS + 1) one step before the wall clock
    baseMs = Math.floor(Date.now() / STEP_MS) * STEP_MS - (STEPS + 2) * STEP_MS;
    const rounds = buildRequests(baseMs);
    const bytes = rounds.flat().reduce((a, b) => a + b.length, 0);
    console.log(`  encoded ${rounds.flat().length} requests (${(bytes / 1e6).toFixed(1)} MB snappy) in ${((performance.now() - tb) / 1000).toFixed(1)} s`);
    return rounds;
  };

  let prom: { samplesPerSec: number; ms: number; peakRssMb: number | null } | undefined;
  if (!SKIP_PROM) {
    const p = await startPrometheus();
    try {
      const r = await send(`${p.url}/api/v1/write`, build(), {});
      const ms = r.tCommitted - r.tStart;
      prom = { ms, samplesPerSec: (TOTAL / ms) * 1000, peakRssMb: p.peakRssMb() };
    } finally {
      await p.stop();
    }
  }

  const tdb = await createTestDatabase("postgres");
  // the source must admit every benchmark series (default cardinality cap is 10,000)
  await (await import("../server/repos/sources-repo")).ensureSource("prometheus", "remote_write", {}, SERIES * 2);
  const omen = await startOmenServer({
    databaseUrl: tdb.url,
    worker: !NO_WORKER,
    env: { OMEN_MAX_BODY_BYTES: String(64 * 1024 * 1024) },
  });
  const admin = new pg.Client({ connectionString: tdb.url });
  await admin.connect();
  try {
    // warm-up (first request compiles routes, opens pools); not counted, outside the data's range
    if (!NO_WORKER) await waitFor("worker heartbeat", async () => (await admin.query("SELECT 1 FROM worker_status")).rowCount! > 0, 60_000, 250);
    const rounds = build();
    let cpu0: Record<string, number> = {};
    let pg0 = new Map<number, { who: string; ms: number }>();
    let busy0 = 0;
    let writes0 = new Map<string, [number, number, number]>();
    // The warm-up round is done when the worker has read it (its streams exist in the engine).
    const warmedUp = async () => {
      if (!NO_WORKER) {
        // (compared with the warm-up's own last seq: the worker's self-metrics keep adding samples)
        const head = Number((await admin.query("SELECT max(seq) AS head FROM sample_block")).rows[0].head);
        await waitFor(
          "worker to read the warm-up round",
          async () => Number((await admin.query("SELECT min(cursor) AS cursor FROM worker_status")).rows[0].cursor ?? -1) >= head,
          120_000,
          250,
        );
      }
      cpu0 = cpuNow();
      pg0 = await backendCpu(admin);
      busy0 = machineBusyMs();
      writes0 = await tableWrites(admin);
    };
    // web and worker by the pids started here (and their children): the web process's command
    // line depends on how it is started; PostgreSQL's backends by their process title
    const cpuNow = () => ({ ...cpuMsOfTrees({ web: omen.pids.web, worker: omen.pids.worker }), ...cpuMsByCommand({ postgres: POSTGRES_PATTERN }) });
    const r = await send(`${omen.url}/api/v1/write`, rounds, { authorization: `Bearer ${omen.token}` }, warmedUp);
    const { tStart: t0, tCommitted } = r;
    const cpuAtCommit = cpuNow();
    const committed = Number((await admin.query("SELECT count(*) AS n FROM sample")).rows[0].n);
    if (committed !== TOTAL + 2 * SERIES) throw new Error(`expected ${TOTAL + 2 * SERIES} committed samples, found ${committed}`);
    if (NO_WORKER) {
      const rate = (TOTAL / (tCommitted - t0)) * 1000;
      const us = (k: string) => (((cpuAtCommit[k] ?? 0) - (cpu0[k] ?? 0)) * 1000) / TOTAL;
      console.log(`\nOmen (no worker): received → committed ${fmt(rate)} samples/s (${((tCommitted - t0) / 1000).toFixed(2)} s)`);
      console.log(`  CPU per sample until committed: web ${us("web").toFixed(2)} µs, PostgreSQL ${us("postgres").toFixed(2)} µs`);
      if (prom) console.log(`Prometheus 2.42 receiver: ${fmt(prom.samplesPerSec)} samples/s; ratio ${(rate / prom.samplesPerSec).toFixed(2)}`);
      return { committed: rate, scored: null, prometheus: prom?.samplesPerSec ?? null, webUs: us("web") };
    }
    let scored = 0;
    const tScored = await waitFor(
      "every sample scored",
      // warm-up round + counted rounds; the closing round stays unscored until a later step exists
      async () => (scored = await scoredAt(admin, baseMs + STEPS * STEP_MS)) >= SERIES,
      300_000,
      200,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: ${fmt(scored)} of ${fmt(SERIES)} streams scored at the last counted step`);
    });
    const allScores = Number((await admin.query(SCORED)).rows[0].n);
    if (allScores < TOTAL + SERIES) throw new Error(`the last step is scored but only ${fmt(allScores)} of ${fmt(TOTAL + SERIES)} scores exist`);
    const cpu1 = cpuNow();
    const pgBy = backendBreakdown(pg0, await backendCpu(admin));
    const busyUs = ((machineBusyMs() - busy0) * 1000) / TOTAL;
    const ingestRate = (TOTAL / (tCommitted - t0)) * 1000;
    await new Promise((r) => setTimeout(r, 5_500)); // the worker's next heartbeat carries its timings
    const info = (await admin.query("SELECT info FROM worker_status LIMIT 1")).rows[0]?.info as Record<string, number> | undefined;
    const perSample = (k: string) => (((cpu1[k] ?? 0) - (cpu0[k] ?? 0)) * 1000) / TOTAL;
    console.log(
      `  CPU per sample until scored: web ${perSample("web").toFixed(1)} µs, worker ${perSample("worker").toFixed(1)} µs, PostgreSQL ${perSample("postgres").toFixed(1)} µs (2 cores here)`,
    );
    console.log(
      `  PostgreSQL by backend (µs/sample): ${Object.entries(pgBy)
        .filter(([, ms]) => ms > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([who, ms]) => `${who} ${((ms * 1000) / TOTAL).toFixed(1)}`)
        .join(", ")}; whole machine busy ${busyUs.toFixed(1)} µs/sample`,
    );
    console.log(`  rows written (of ${fmt(TOTAL)} samples; statistics as PostgreSQL flushed them): ${writesLine(writes0, await tableWrites(admin))}`);
    const mem = peakRssMbOfTrees({ web: omen.pids.web, worker: omen.pids.worker });
    console.log(
      `  peak memory (VmHWM, MB): web ${mem.web!.toFixed(0)}, worker ${mem.worker!.toFixed(0)}${prom?.peakRssMb ? `; Prometheus ${prom.peakRssMb.toFixed(0)}` : ""}`,
    );
    if (info) console.log(`  worker: read ${fmt(info.readMs ?? 0)} ms, score ${fmt(info.scoreMs ?? 0)} ms, write ${fmt(info.writeMs ?? 0)} ms (cumulative, overlapping)`);
    const e2eRate = (TOTAL / (tScored - t0)) * 1000;
    const rows: [string, string, string][] = [
      ["Omen: received → committed", `${fmt(ingestRate)} samples/s`, `${((tCommitted - t0) / 1000).toFixed(2)} s${r.retries ? `, ${r.retries} back-pressure retries` : ""}`],
      ["Omen: received → committed → scored", `${fmt(e2eRate)} samples/s`, `${((tScored - t0) / 1000).toFixed(2)} s`],
    ];
    if (prom) rows.push(["Prometheus 2.42 remote-write receiver", `${fmt(prom.samplesPerSec)} samples/s`, `${(prom.ms / 1000).toFixed(2)} s`]);
    console.log("");
    for (const [a, b, c] of rows) console.log(`${a.padEnd(40)} ${b.padStart(20)}   (${c})`);
    console.log("");
    if (prom) console.log(`ratio Omen end-to-end / Prometheus: ${(e2eRate / prom.samplesPerSec).toFixed(2)}`);
    return { committed: ingestRate, scored: e2eRate, prometheus: prom?.samplesPerSec ?? null, webUs: perSample("web") };
  } finally {
    await admin.end();
    await omen.stop();
    await tdb.drop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  process.env.TEST_DATABASE_URL ??= process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  console.log(
    `bench:ingest — ${fmt(SERIES)} series × ${STEPS} scrapes = ${fmt(TOTAL)} samples, ${CONCURRENCY} shards × ${fmt(SERIES / CONCURRENCY)} samples/request, ${RUNS} run(s)`,
  );
  const results: RunResult[] = [];
  for (let k = 1; k <= RUNS; k++) {
    console.log(`\n— run ${k} of ${RUNS}`);
    results.push(await runOnce());
  }
  const col = (f: (r: RunResult) => number | null) => results.map(f).filter((x): x is number => x !== null);
  const committed = col((r) => r.committed);
  const scored = col((r) => r.scored);
  const prom = col((r) => r.prometheus);
  const ratios = col((r) => (r.scored !== null && r.prometheus !== null ? r.scored / r.prometheus : null));
  const line = (name: string, xs: number[], f: (x: number) => string) =>
    console.log(`${name.padEnd(40)} median ${f(median(xs)).padStart(9)}   runs: ${xs.map(f).join(", ")}`);
  console.log(`\nsummary over ${RUNS} run(s), samples/s`);
  line("Omen: received → committed", committed, fmt);
  if (scored.length) line("Omen: received → committed → scored", scored, fmt);
  if (prom.length) line("Prometheus 2.42 remote-write receiver", prom, fmt);
  line(`web CPU µs/sample (until ${NO_WORKER ? "committed" : "scored"})`, col((r) => r.webUs), (x) => x.toFixed(2));
  if (ratios.length) line("ratio Omen end-to-end / Prometheus", ratios, (x) => x.toFixed(2));
  if (ratios.length) console.log(`ratio target ≥ 0.50: ${median(ratios) >= 0.5 ? "met" : "not met"} (median ${median(ratios).toFixed(2)})`);
  if (NATS_WORKERS.length) {
    // scale-out (issue 15): the same machine, scoring through NATS JetStream
    const { natsScoringRate } = await import("./nats-scoring.bench");
    const loopback = scored.length ? median(scored) : null;
    const rates = new Map<number, number>();
    for (const w of NATS_WORKERS) {
      const rate = await natsScoringRate(w, Math.min(SERIES, 5_000), 40);
      rates.set(w, rate);
      line(`NATS JetStream, ${w} worker(s): scored`, [rate], fmt);
    }
    if (loopback !== null && rates.has(1)) console.log(`NATS 1 worker / loopback default: ${(rates.get(1)! / loopback).toFixed(2)}`);
    if (rates.has(1) && rates.has(2)) console.log(`scaling 1 → 2 workers: ×${(rates.get(2)! / rates.get(1)!).toFixed(2)} (2 cores shared by the workers, PostgreSQL and NATS)`);
  }
  if (scored.length) {
    const m = median(scored);
    console.log(`target ≥ 200,000 samples/s end to end (floor 100,000): ${m >= 200_000 ? "met" : m >= 100_000 ? "above floor, below target" : "BELOW FLOOR"} (median ${fmt(m)})`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
