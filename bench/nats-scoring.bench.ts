/**
 * `npx tsx bench/nats-scoring.bench.ts [--series 2000] [--steps 30] [--workers 1,2]`: samples/s
 * scored through NATS JetStream by 1 and by 2 scale-out workers. The samples are committed and
 * published first (the web path: group commit + JetStream publish), then the workers start and
 * drain the log; the rate is timed from the first 10 % scored to the last sample.
 * Needs TEST_DATABASE_URL and NATS at TEST_NATS_URL (default nats://127.0.0.1:4222).
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { destroySampleLog, openSampleLog } from "../server/nats/sample-log";
import { natsCommitSink } from "../server/nats/commit-publisher";
import { readPartitionProgress } from "../server/repos/partition-repo";
import { ensureSource } from "../server/repos/sources-repo";
import { setCommitSink } from "../server/services/ingest/group-commit";
import { ingestSeries, type IncomingSeries } from "../server/services/ingest/ingest-service";
import { createTestDatabase } from "../server/testing/test-db";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const SERIES_DEFAULT = Number(arg("series", "2000"));
const STEPS_DEFAULT = Number(arg("steps", "30"));
const WORKERS = arg("workers", "1,2").split(",").map(Number);
const NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const root = path.resolve(import.meta.dirname, "..");

/** samples/s scored by `workers` scale-out workers draining `series × steps` samples from the log. */
export async function natsScoringRate(workers: number, SERIES = SERIES_DEFAULT, STEPS = STEPS_DEFAULT): Promise<number> {
  const tdb = await createTestDatabase("postgres");
  const prefix = `omen_b_${crypto.randomBytes(4).toString("hex")}`;
  const log = await openSampleLog({ url: NATS_URL, prefix, partitions: 16 }, "bench");
  const sink = natsCommitSink(log);
  setCommitSink(sink.sink, sink.outbox);
  await ensureSource("bench", "remote_write", {}, SERIES * 2);
  const t0 = Math.floor(Date.now() / 10_000) * 10_000 - STEPS * 10_000;
  for (let k = 0; k < STEPS; k++) {
    const series: IncomingSeries[] = Array.from({ length: SERIES }, (_, i) => ({ metric: "bench", labels: { i: String(i) }, kind: "gauge", tsMs: [t0 + k * 10_000], values: [Math.sin((i + k) / 5) * 10 + i] }));
    await ingestSeries("bench", "remote_write", series, t0 + k * 10_000 + 1_000);
  }
  const children: ChildProcess[] = [];
  const tStart = performance.now();
  for (let w = 1; w <= workers; w++) {
    children.push(
      spawn(process.execPath, ["--import", "tsx", path.join(root, "server", "worker", "main.ts")], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: tdb.url, OMEN_NATS_URL: NATS_URL, OMEN_NATS_PREFIX: prefix, OMEN_PARTITIONS: "16", OMEN_WORKER_NAME: `b${w}`, OMEN_SKIP_MIGRATE: "1", OMEN_DISABLE_HOST_COLLECTOR: "1" },
        stdio: "ignore",
      }),
    );
  }
  const total = SERIES * STEPS;
  let scored = 0;
  // timed from the first 10 % scored (workers started, partitions shared) to the last sample
  let from: { t: number; n: number } | null = null;
  while (scored < total) {
    await new Promise((r) => setTimeout(r, 100));
    scored = (await readPartitionProgress(log.names.stream)).reduce((a, p) => a + p.scored, 0);
    if (!from && scored >= total / 10) from = { t: performance.now(), n: scored };
    if (performance.now() - tStart > 600_000) throw new Error(`only ${scored} of ${total} scored after 10 min`);
  }
  const seconds = (performance.now() - from!.t) / 1000;
  console.log(`  (${workers} worker(s): ${((from!.t - tStart) / 1000).toFixed(1)} s to start and score the first 10 %)`);
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))));
  setCommitSink(null);
  sink.close();
  await destroySampleLog(log);
  await log.close();
  await tdb.drop();
  return (total - from!.n) / seconds;
}

async function main(): Promise<void> {
  const SERIES = SERIES_DEFAULT;
  const STEPS = STEPS_DEFAULT;
  console.log(`${SERIES} series × ${STEPS} steps through NATS JetStream (16 partitions); timed after the first 10 % (start-up excluded)`);
  const rates = new Map<number, number>();
  for (const w of WORKERS) {
    const rate = await natsScoringRate(w);
    rates.set(w, rate);
    console.log(`  ${w} worker(s): ${Math.round(rate).toLocaleString("en")} samples/s scored`);
  }
  const one = rates.get(1);
  const two = rates.get(2);
  if (one && two) console.log(`  scaling 1 → 2 workers: ×${(two / one).toFixed(2)}`);
  process.exit(0);
}

if (import.meta.filename === path.resolve(process.argv[1] ?? "")) void main();
