/**
 * `npm run bench:health`: `/api/health` latency under steady ingest load (issue 14: p99 under
 * 200 ms at 50,000 samples/s).
 *
 * Omen (web + worker, fresh PostgreSQL database from TEST_DATABASE_URL, default the local
 * server) takes remote_write at a steady `--rate` samples/s: `--series` series, one sample each
 * per round, encoded beforehand, rounds paced to the rate over 4 concurrent shards (timestamps 10 s apart, starting
 * in the past, so the data stays behind the wall clock). Meanwhile /api/health is polled every
 * 100 ms. Prints the achieved ingest rate, health latency p50/p95/p99/max, and how often health
 * said ok. The load runs `--seconds` (default 30) after a warm-up round that creates the streams
 * and 10 s of polling without load (the same run's peer: what the machine's noise alone gives).
 *
 * Also printed, to read the latencies against: the samples the database holds afterwards (so the
 * acknowledged rate is real), the worker's backlog at the end, the CPU time of the web process,
 * the worker and PostgreSQL during the load, the load average (the machine may be shared), and
 * the web process's event-loop delay during the load (bench/lib/loop-delay-probe.ts): its
 * p50/p99/max, its stalls over 50 ms, and how many of the slow health polls (over 100 ms) met one.
 *
 * Options: --rate 50000 --series 10000 --seconds 30
 */
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import pg from "pg";
import { encodeWriteRequest } from "../lib/ingest/remote-write";
import { createTestDatabase } from "../server/testing/test-db";
import { startOmenServer, type OmenServer } from "../server/testing/omen-server";
import { cpuMsByCommand, cpuMsOfTrees } from "./lib/proc-cpu";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const RATE = arg("rate", 50_000);
const SERIES = arg("series", 10_000);
const SECONDS = arg("seconds", 30);
const SHARDS = 4;
const STEP_MS = 10_000;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

function round(r: number, baseMs: number): Uint8Array[] {
  const per = Math.ceil(SERIES / SHARDS);
  return Array.from({ length: SHARDS }, (_, l) => {
    const timeseries = [];
    for (let i = l * per; i < Math.min(SERIES, (l + 1) * per); i++) {
      timeseries.push({
        labels: [
          { name: "__name__", value: "bench_health_metric" },
          { name: "series", value: String(i) },
        ],
        samples: [{ timestamp: baseMs + r * STEP_MS, value: 100 + 10 * Math.sin(r / 6 + i) + ((i * 7919 + r * 104729) % 1000) / 1000 }],
      });
    }
    return encodeWriteRequest({ timeseries });
  });
}

async function post(url: string, token: string, body: Uint8Array): Promise<boolean> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const res = await fetch(`${url}/api/v1/write?source=bench`, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf", "content-encoding": "snappy", "x-prometheus-remote-write-version": "0.1.0", authorization: `Bearer ${token}` },
      body: Buffer.from(body),
    }).catch(() => null);
    const status = res?.status ?? 0;
    await res?.text();
    if (status >= 200 && status < 300) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  /** see bench/lib/loop-delay-probe.ts: time on a CPU, waiting for one, in GC */
  stalls: { atMs: number; ms: number; runMs?: number; waitMs?: number; gcMs: number }[];
}

/** Asks the web process's probe for its event-loop delay since the last ask (null without a probe). */
async function readLoopDelay(omen: OmenServer): Promise<LoopDelay | null> {
  const before = omen.logs().length;
  process.kill(omen.pids.web, "SIGUSR2");
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const m = /\[loop-delay\] (\{.*\})\n/.exec(omen.logs().slice(before));
    if (m) return JSON.parse(m[1]!) as LoopDelay;
  }
  return null;
}

async function storedSamples(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query<{ n: string }>("SELECT count(*)::bigint AS n FROM sample")).rows[0]!.n);
  } finally {
    await c.end();
  }
}

async function backlogOf(omen: OmenServer): Promise<string> {
  const res = await fetch(`${omen.url}/api/health`, { headers: { authorization: `Bearer ${omen.readToken}` } }).catch(() => null);
  const body = (await res?.json().catch(() => null)) as { backlog?: { rows?: number; pendingSamples?: number | null } | null } | null;
  return body?.backlog ? `${body.backlog.rows ?? "?"} block rows + ${body.backlog.pendingSamples ?? "?"} samples held` : "unknown";
}

const loadAverage = () => os.loadavg().map((x) => x.toFixed(2)).join(", ");

async function main(): Promise<void> {
  if (!process.env.TEST_DATABASE_URL) process.env.TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
  // the web process reports its event-loop delay (with any node flags already asked for, e.g. --cpu-prof)
  const probe = path.join(import.meta.dirname, "lib", "loop-delay-probe.ts");
  process.env.OMEN_TEST_WEB_NODE_ARGS = `${process.env.OMEN_TEST_WEB_NODE_ARGS ?? ""} --import tsx --import ${probe}`.trim();
  const db = await createTestDatabase("postgres");
  const omen = await startOmenServer({ databaseUrl: db.url, worker: true });
  try {
    const rounds = Math.ceil((RATE * SECONDS) / SERIES);
    const baseMs = Math.floor((Date.now() - (rounds + 10) * STEP_MS - 3_600_000) / STEP_MS) * STEP_MS;
    console.log(`bench:health: ${SERIES} series, ${RATE} samples/s for ${SECONDS} s (${rounds} rounds), health polled every 100 ms`);
    // encoded before the load, so that this process's event loop (which times the health polls)
    // stays free during it; and before the warm-up, so no idle keep-alive connection expires meanwhile
    const bodies = Array.from({ length: rounds }, (_, r) => round(r + 1, baseMs));
    await Promise.all(round(0, baseMs).map((b) => post(omen.url, omen.token, b))); // warm-up: creates the streams
    // the peer in the same run: health latency with no ingest load (the machine's own noise)
    const idle: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      await (await fetch(`${omen.url}/api/health`)).json();
      idle.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 100));
    }
    const stored0 = await storedSamples(db.url);
    await readLoopDelay(omen); // starts the web process's count afresh
    const cpu = () => ({ ...cpuMsOfTrees({ web: omen.pids.web, worker: omen.pids.worker }), ...cpuMsByCommand({ postgres: /^postgres: / }) });
    const cpu0 = cpu();
    const load0 = loadAverage();
    const ownLoop = monitorEventLoopDelay({ resolution: 10 });
    ownLoop.enable();
    const latencies: number[] = [];
    const polledAt: number[] = [];
    let ok = 0;
    let polls = 0;
    let loading = true;
    const poller = (async () => {
      while (loading) {
        const t = performance.now();
        polledAt.push(Date.now());
        const res = await fetch(`${omen.url}/api/health`).catch(() => null);
        const body = res ? ((await res.json().catch(() => null)) as { ok?: boolean } | null) : null;
        latencies.push(performance.now() - t);
        polls++;
        if (body?.ok) ok++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const intervalMs = (1000 * SERIES) / RATE;
    const t0 = performance.now();
    let sent = 0;
    let late = 0;
    for (let r = 1; r <= rounds; r++) {
      const due = t0 + (r - 1) * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      else late++;
      const acked = await Promise.all(bodies[r - 1]!.map((b) => post(omen.url, omen.token, b)));
      sent += acked.filter(Boolean).length * Math.ceil(SERIES / SHARDS);
    }
    const seconds = (performance.now() - t0) / 1000;
    loading = false;
    await poller;
    ownLoop.disable();
    const cpu1 = cpu();
    const load1 = loadAverage();
    const loop = await readLoopDelay(omen);
    const stored = (await storedSamples(db.url)) - stored0;
    const f = (x: number) => x.toFixed(1);
    console.log(`  ingest: ${Math.round(sent / seconds)} samples/s acknowledged over ${seconds.toFixed(1)} s (${late} of ${rounds} rounds started late); ${sent} acknowledged, ${stored} stored`);
    console.log(
      `  /api/health: ${polls} polls, p50 ${f(quantile(latencies, 0.5))} ms, p95 ${f(quantile(latencies, 0.95))} ms, p99 ${f(quantile(latencies, 0.99))} ms, max ${f(Math.max(...latencies))} ms; ok in ${ok} of ${polls}`,
    );
    console.log(`  /api/health without load (same run): p50 ${f(quantile(idle, 0.5))} ms, p99 ${f(quantile(idle, 0.99))} ms`);
    if (loop) {
      const slow = latencies.flatMap((ms, i) => (ms > 100 ? [{ at: polledAt[i]!, ms }] : []));
      const metStall = slow.filter((p) => loop.stalls.some((st) => st.atMs < p.at + p.ms && st.atMs + st.ms > p.at)).length;
      const where = (st: { ms: number; runMs?: number; waitMs?: number; gcMs: number }) =>
        st.runMs === undefined ? `${st.ms} ms` : `${st.ms} ms (run ${st.runMs}, wait for CPU ${st.waitMs}, GC ${st.gcMs})`;
      const total = loop.stalls.reduce((a, st) => ({ ms: a.ms + st.ms, runMs: a.runMs + (st.runMs ?? 0), waitMs: a.waitMs + (st.waitMs ?? 0), gcMs: a.gcMs + st.gcMs }), { ms: 0, runMs: 0, waitMs: 0, gcMs: 0 });
      const longest = [...loop.stalls].sort((a, b) => b.ms - a.ms).slice(0, 5).map(where);
      console.log(
        `  web event loop during the load: delay p50 ${f(loop.p50)} ms, p99 ${f(loop.p99)} ms, max ${f(loop.max)} ms; ${loop.stalls.length} stalls over 50 ms, ${where(total)} in all; ` +
          `${metStall} of ${slow.length} health polls over 100 ms met a stall`,
      );
      console.log(`  longest stalls: ${longest.join("; ") || "none"}`);
    }
    const used = (k: keyof typeof cpu0) => `${k} ${(((cpu1[k] ?? 0) - (cpu0[k] ?? 0)) / 1000 / seconds).toFixed(2)}`;
    console.log(`  CPU during the load (cores busy): ${used("web")}, ${used("worker")}, ${used("postgres")} (every PostgreSQL backend on the machine); worker backlog at the end: ${await backlogOf(omen)}`);
    console.log(`  this process's event loop (it times the polls) during the load: delay p99 ${f(ownLoop.percentile(99) / 1e6)} ms, max ${f(ownLoop.max / 1e6)} ms`);
    console.log(`  load average: ${load0} at the start of the load, ${load1} at its end (${os.cpus().length} cores)`);
    const p99 = quantile(latencies, 0.99);
    console.log(`  verdict: p99 ${f(p99)} ms ${p99 < 200 ? "<" : "≥"} 200 ms at ${Math.round(sent / seconds)} samples/s ${p99 < 200 ? "(pass)" : "(FAIL)"}`);
  } finally {
    await omen.stop();
    await db.drop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
