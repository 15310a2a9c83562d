/**
 * `npm run bench:backlog`: how long pages wait while the worker scores a backlog on the
 * embedded database (PGlite serves one session, and each scoring round's write holds it).
 *
 * Seeds a data directory once with `--streams` streams × `--days` days at 1-minute steps,
 * unscored, then for each round size in `--batches` (default 100000,20000: the PostgreSQL
 * default and the embedded one, the same run's peer) starts `npm start` (scripts/start.ts) on
 * a copy of it with OMEN_WORKER_BATCH set, polls /api/health every 250 ms while the worker
 * scores the backlog, and prints the health latency p50/p99/max and the backlog's time and
 * rate from the worker's log. `--rounds` repeats the whole set (the machine may be shared).
 *
 * Options: --streams 60 --days 3 --batches 100000,20000 --rounds 1
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { closeDatabase, configureDatabase } from "../server/db";
import { resolveDatabase } from "../server/embedded/embedded-db";
import { migrate } from "../server/migrate";
import { ingestSeries } from "../server/services/ingest/ingest-service";
import { ensureBuilt, freePort } from "../server/testing/omen-server";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
}
const STREAMS = Number(arg("streams", "60"));
const DAYS = Number(arg("days", "3"));
const BATCHES = arg("batches", "100000,20000").split(",").map(Number);
const ROUNDS = Number(arg("rounds", "1"));
const STEP = 60_000;
const root = path.resolve(import.meta.dirname, "..");

async function seed(dir: string): Promise<number> {
  const { url, embedded } = await resolveDatabase(undefined, dir);
  await migrate(url);
  configureDatabase(url);
  const n = DAYS * 1440;
  const end = Math.floor(Date.now() / STEP) * STEP;
  const ts = Array.from({ length: n }, (_, i) => end - (n - 1 - i) * STEP);
  for (let c = 0; c < STREAMS; c += 10) {
    const series = Array.from({ length: Math.min(10, STREAMS - c) }, (_, k) => ({
      metric: `bench_backlog_${c + k}`,
      labels: { host: `h${c / 10}` },
      kind: "gauge" as const,
      tsMs: ts,
      values: ts.map((_, i) => 50 + 10 * Math.sin(i / 200 + k) + ((i * 7919 + k) % 13) / 3),
    }));
    await ingestSeries("bench-backlog", "remote_write", series, end + STEP);
  }
  await closeDatabase();
  await embedded?.stop();
  return STREAMS * n;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

async function run(base: string, batch: number): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omen-backlog-"));
  fs.cpSync(base, dir, { recursive: true });
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: "", OMEN_DATA_DIR: dir, PORT: String(port), OMEN_WORKER_BATCH: String(batch), OMEN_ADMIN_PASSWORD: "bench-backlog-password-0123" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr.on("data", (d: Buffer) => (log += d.toString()));
  const health = `http://127.0.0.1:${port}/api/health`;
  const started = Date.now();
  const latencies: number[] = [];
  const slow: string[] = [];
  let done: RegExpExecArray | null = null;
  try {
    for (;;) {
      if (Date.now() - started > 300_000) throw new Error(`no backlog scored within 300 s; log:\n${log.slice(-2000)}`);
      const t = performance.now();
      const ok = await fetch(health, { signal: AbortSignal.timeout(60_000) }).then((r) => r.ok, () => false);
      const took = performance.now() - t;
      if (ok) latencies.push(took);
      if (ok && took > 200) slow.push(`${(took / 1000).toFixed(1)} s at ${((Date.now() - started) / 1000).toFixed(0)} s`);
      done ??= /scored a backlog of (\d+) samples in ([\d.]+) s \((\d+) samples\/s\)/.exec(log);
      if (done) break;
      await new Promise((r) => setTimeout(r, ok ? 250 : 500));
    }
  } finally {
    child.kill("SIGINT");
    await new Promise((r) => child.once("exit", r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  return `batch ${String(batch).padStart(7)}: backlog ${done[1]} samples in ${done[2]} s (${done[3]}/s); health during it p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))}, max ${ms(Math.max(...latencies))} over ${latencies.length} polls (over 200 ms: ${slow.join(", ") || "none"}); load ${os.loadavg()[0]!.toFixed(1)}`;
}

async function main(): Promise<void> {
  ensureBuilt();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "omen-backlog-base-"));
  try {
    const samples = await seed(base);
    console.log(`seeded ${samples} samples (${STREAMS} streams × ${DAYS} days at 1-minute steps) into the embedded database`);
    for (let r = 0; r < ROUNDS; r++) for (const b of BATCHES) console.log(await run(base, b));
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
