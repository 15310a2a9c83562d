/**
 * `npm run bench:detect-api`: latency of `POST /api/v1/detect` against a running Omen (web
 * process + worker, fresh database: PostgreSQL when TEST_DATABASE_URL is set, else embedded).
 * Imports `--streams` streams (default 1,000) × 240 points by CSV so the worker's models are
 * warm, then sends `--requests` sequential requests of 100 streams (and of 1,000) and prints
 * p50/p99, beside `GET /api/health` on the same server as a floor for one HTTP round trip.
 * Target: p99 < 100 ms for 100 streams.
 */
import { parseArgs } from "node:util";
import { countSamples } from "../server/repos/storage/samples";
import { countScores } from "../server/repos/storage/scores";
import { createTestDatabase } from "../server/testing/test-db";
import { startOmenServer } from "../server/testing/omen-server";

const { values: args } = parseArgs({ options: { streams: { type: "string", default: "1000" }, requests: { type: "string", default: "300" } } });
const STREAMS = Number(args.streams);
const REQUESTS = Number(args.requests);
const ROWS = 240;
const STEP = 10_000;

function quantile(xs: number[], q: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Server-Timing entries of the last responses, by name. */
const serverTiming = new Map<string, number[]>();

async function timed(n: number, fn: (i: number) => Promise<Response>): Promise<number[]> {
  const out: number[] = [];
  serverTiming.clear();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await fn(i);
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`status ${r.status}`);
    out.push(performance.now() - t);
    for (const m of (r.headers.get("server-timing") ?? "").matchAll(/(\w+);dur=([\d.]+)/g)) {
      const list = serverTiming.get(m[1]!) ?? [];
      list.push(Number(m[2]));
      serverTiming.set(m[1]!, list);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const tdb = await createTestDatabase();
  const omen = await startOmenServer({ databaseUrl: tdb.url, worker: true });
  try {
    const t0 = Math.floor(Date.now() / STEP) * STEP - ROWS * STEP;
    const names = Array.from({ length: STREAMS }, (_, j) => `bench_metric_${j}`);
    const lines = [`timestamp,${names.join(",")}`];
    for (let i = 0; i < ROWS; i++) lines.push(`${new Date(t0 + i * STEP).toISOString()},${names.map((_, j) => (50 + j + 5 * Math.sin(i / 30 + j)).toFixed(3)).join(",")}`);
    const imp = await fetch(`${omen.url}/api/v1/import/csv?source=bench`, { method: "POST", headers: { authorization: `Bearer ${omen.token}`, "content-type": "text/csv" }, body: lines.join("\n") });
    if (imp.status !== 200) throw new Error(`import failed: ${imp.status} ${await imp.text()}`);
    // the worker has caught up when every stored sample is scored (scores of a streams' first
    // points may be skipped during warm-up: wait for the count to settle instead)
    const deadline = Date.now() + 300_000;
    let last = -1;
    for (;;) {
      const [samples, scores] = [await countSamples(), await countScores()];
      if (samples >= STREAMS * ROWS && scores === last && scores > 0) break;
      last = scores;
      if (Date.now() > deadline) throw new Error(`the worker did not score the import within 5 minutes (${scores} of ${samples} samples scored)`);
      await new Promise((r) => setTimeout(r, 3000));
    }
    const request = (n: number, i: number) =>
      fetch(`${omen.url}/api/v1/detect`, {
        method: "POST",
        headers: { authorization: `Bearer ${omen.readToken}`, "content-type": "application/json" },
        body: JSON.stringify({ streams: Array.from({ length: n }, (_, k) => ({ key: names[(k + i) % STREAMS]!, source: "bench", value: 50 + (k % 7) + (i % 3 === 0 && k === 0 ? 500 : 0) })) }),
      });
    await timed(30, (i) => request(100, i)); // warm-up (JIT, connection pools, route compilation)
    const health = await timed(REQUESTS, () => fetch(`${omen.url}/api/health`));
    const d100 = await timed(REQUESTS, (i) => request(Math.min(100, STREAMS), i));
    const parts100 = [...serverTiming].map(([k, xs]) => `${k} p50 ${quantile(xs, 0.5).toFixed(1)} / p99 ${quantile(xs, 0.99).toFixed(1)} ms`).join(", ");
    const d1000 = STREAMS >= 1000 ? await timed(Math.ceil(REQUESTS / 5), (i) => request(1000, i)) : null;
    const fmt = (xs: number[]) => `p50 ${quantile(xs, 0.5).toFixed(1)} ms, p99 ${quantile(xs, 0.99).toFixed(1)} ms (n=${xs.length})`;
    console.log(`models: ${STREAMS} streams × ${ROWS} points (${tdb.backend})`);
    console.log(`GET /api/health (one round trip):   ${fmt(health)}`);
    console.log(`POST /api/v1/detect, ${Math.min(100, STREAMS)} streams: ${fmt(d100)}`);
    console.log(`  inside the web process: ${parts100}`);
    if (d1000) console.log(`POST /api/v1/detect, 1000 streams: ${fmt(d1000)}`);
    const p99 = quantile(d100, 0.99);
    console.log(p99 < 100 ? `OK: p99 ${p99.toFixed(1)} ms < 100 ms` : `OVER TARGET: p99 ${p99.toFixed(1)} ms ≥ 100 ms`);
  } finally {
    await omen.stop();
    await tdb.drop();
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  },
);
