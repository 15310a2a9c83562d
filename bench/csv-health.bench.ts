/**
 * `npm run bench:csv-health`: `/api/health` latency while a large CSV file is imported (issue 14:
 * "a 9 MB CSV import pushed health latency to 6 s"; large imports must not stall other requests).
 *
 * Omen (web + worker, fresh PostgreSQL database from TEST_DATABASE_URL, default the local
 * server) first imports a one-line file as a dry run (the web app loads the import route on its
 * first use; a running Omen has), answers /api/health for 10 s with nothing else running (the
 * same run's peer: the machine's own noise), then imports a generated wide CSV of about `--mb`
 * megabytes (timestamp + `--columns` value columns, 10 s apart, ending an hour ago) through
 * POST /api/v1/import/csv while /api/health is polled every 100 ms, and goes on polling while
 * the worker scores the file (until its backlog is empty, at most `--drain` seconds). Prints the
 * file size, the import's status, duration and samples, health latency p50/p95/p99/max in each
 * phase, the CPU time of the web process, the worker and PostgreSQL during the import, and the
 * load average (the machine may be shared: read the latencies next to it).
 *
 * Options: --mb 9 --columns 20 --drain 120
 */
import os from "node:os";
import { createTestDatabase } from "../server/testing/test-db";
import { startOmenServer } from "../server/testing/omen-server";
import { cpuMsByCommand, cpuMsOfTrees } from "./lib/proc-cpu";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const MB = arg("mb", 9);
const COLUMNS = arg("columns", 20);
const DRAIN_S = arg("drain", 120);
const STEP_MS = 10_000;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

/** A wide CSV of about `mb` megabytes: ISO timestamps, `columns` gauges with a daily wave and noise. */
function wideCsv(mb: number, columns: number): { text: string; rows: number } {
  const header = ["timestamp", ...Array.from({ length: columns }, (_, k) => `bench_csv_${k}`)].join(",");
  const lines = [header];
  let bytes = header.length + 1;
  // sizes the file first, then dates it so that it ends an hour ago
  const values: string[] = [];
  for (let r = 0; bytes < mb * 1024 * 1024; r++) {
    const row = Array.from({ length: columns }, (_, k) => (100 + 10 * Math.sin((r * STEP_MS) / 86_400_000 * 2 * Math.PI + k) + ((r * 7919 + k * 104729) % 1000) / 100).toFixed(3)).join(",");
    values.push(row);
    bytes += 25 + row.length;
  }
  const start = Math.floor((Date.now() - 3_600_000) / STEP_MS) * STEP_MS - values.length * STEP_MS;
  values.forEach((row, r) => lines.push(`${new Date(start + r * STEP_MS).toISOString()},${row}`));
  return { text: `${lines.join("\n")}\n`, rows: values.length };
}

async function pollHealth(url: string, until: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  while (!until()) {
    const t = performance.now();
    const res = await fetch(`${url}/api/health`).catch(() => null);
    await res?.text();
    latencies.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 100));
  }
  return latencies;
}

/** Block rows the scoring worker has not scored yet (null while unknown). */
async function scoringBacklog(url: string, token: string): Promise<number | null> {
  const res = await fetch(`${url}/api/health`, { headers: { authorization: `Bearer ${token}` } }).catch(() => null);
  const body = (await res?.json().catch(() => null)) as { backlog?: { rows?: number; pendingSamples?: number } | null } | null;
  const b = body?.backlog;
  return b && typeof b.rows === "number" ? b.rows + (b.pendingSamples ?? 0) : null;
}

const loadAverage = () => os.loadavg().map((x) => x.toFixed(2)).join(", ");

async function main(): Promise<void> {
  if (!process.env.TEST_DATABASE_URL) process.env.TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
  const db = await createTestDatabase("postgres");
  const omen = await startOmenServer({ databaseUrl: db.url, worker: true });
  try {
    const csv = wideCsv(MB, COLUMNS);
    const size = Buffer.byteLength(csv.text);
    console.log(`bench:csv-health: ${(size / 2 ** 20).toFixed(1)} MB CSV (${csv.rows} rows × ${COLUMNS} columns), /api/health polled every 100 ms`);
    const warm = await fetch(`${omen.url}/api/v1/import/csv?source=bench-csv&dryRun=1`, {
      method: "POST",
      headers: { "content-type": "text/csv", authorization: `Bearer ${omen.token}` },
      body: "timestamp,bench_csv_0\n2026-01-01T00:00:00Z,1\n",
    });
    if (!warm.ok) throw new Error(`warm-up dry run: HTTP ${warm.status} ${await warm.text()}`);
    const quietUntil = performance.now() + 10_000;
    const idle = await pollHealth(omen.url, () => performance.now() > quietUntil);
    let importing = true;
    const during = pollHealth(omen.url, () => !importing);
    const cpu = () => ({ ...cpuMsOfTrees({ web: omen.pids.web, worker: omen.pids.worker }), ...cpuMsByCommand({ postgres: /^postgres: / }) });
    const cpu0 = cpu();
    const load0 = loadAverage();
    const t0 = performance.now();
    const res = await fetch(`${omen.url}/api/v1/import/csv?source=bench-csv`, {
      method: "POST",
      headers: { "content-type": "text/csv", authorization: `Bearer ${omen.token}` },
      body: csv.text,
    });
    const body = (await res.json().catch(() => null)) as { received?: number; inserted?: number } | null;
    const seconds = (performance.now() - t0) / 1000;
    importing = false;
    const latencies = await during;
    const cpu1 = cpu();
    const load1 = loadAverage();
    let draining = true;
    const drainUntil = performance.now() + DRAIN_S * 1000;
    const t1 = performance.now();
    const scoring = pollHealth(omen.url, () => !draining);
    while (performance.now() < drainUntil && (await scoringBacklog(omen.url, omen.readToken)) !== 0) await new Promise((r) => setTimeout(r, 500));
    draining = false;
    const afterImport = await scoring;
    const drainSeconds = (performance.now() - t1) / 1000;
    const f = (x: number) => x.toFixed(1);
    console.log(`  import: HTTP ${res.status} in ${seconds.toFixed(1)} s, ${body?.inserted ?? "?"} samples stored (${Math.round((body?.inserted ?? 0) / seconds)} samples/s)`);
    console.log(
      `  /api/health during the import: ${latencies.length} polls, p50 ${f(quantile(latencies, 0.5))} ms, p95 ${f(quantile(latencies, 0.95))} ms, p99 ${f(quantile(latencies, 0.99))} ms, max ${f(Math.max(...latencies))} ms`,
    );
    console.log(`  /api/health without load (same run): p50 ${f(quantile(idle, 0.5))} ms, p99 ${f(quantile(idle, 0.99))} ms`);
    console.log(
      `  /api/health while the worker scores the file (${drainSeconds.toFixed(1)} s${drainSeconds >= DRAIN_S ? ", cut off" : ""}): ${afterImport.length} polls, p50 ${f(quantile(afterImport, 0.5))} ms, p99 ${f(quantile(afterImport, 0.99))} ms, max ${f(Math.max(...afterImport))} ms`,
    );
    const used = (k: keyof typeof cpu0) => `${k} ${(((cpu1[k] ?? 0) - (cpu0[k] ?? 0)) / 1000).toFixed(1)} s`;
    console.log(`  CPU during the import: ${used("web")}, ${used("worker")}, ${used("postgres")} (all PostgreSQL backends on the machine)`);
    console.log(`  load average: ${load0} at the start of the import, ${load1} at its end (${os.cpus().length} cores)`);
    const p99 = quantile(latencies, 0.99);
    console.log(`  verdict: p99 ${f(p99)} ms ${p99 < 200 ? "<" : "≥"} 200 ms during a ${(size / 2 ** 20).toFixed(1)} MB import ${p99 < 200 ? "(pass)" : "(FAIL)"}`);
  } finally {
    await omen.stop();
    await db.drop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
