/**
 * `npm run bench:health`: `/api/health` latency under steady ingest load (issue 14: p99 under
 * 200 ms at 50,000 samples/s).
 *
 * Omen (web + worker, fresh PostgreSQL database from TEST_DATABASE_URL, default the local
 * server) takes remote_write at a steady `--rate` samples/s: `--series` series, one sample each
 * per round, rounds paced to the rate over 4 concurrent shards (timestamps 10 s apart, starting
 * in the past, so the data stays behind the wall clock). Meanwhile /api/health is polled every
 * 100 ms. Prints the achieved ingest rate, health latency p50/p95/p99/max, and how often health
 * said ok. The load runs `--seconds` (default 30) after a warm-up round that creates the streams
 * and 10 s of polling without load (the same run's peer: what the machine's noise alone gives).
 *
 * Options: --rate 50000 --series 10000 --seconds 30
 */
import { encodeWriteRequest } from "../lib/ingest/remote-write";
import { createTestDatabase } from "../server/testing/test-db";
import { startOmenServer } from "../server/testing/omen-server";

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

async function main(): Promise<void> {
  if (!process.env.TEST_DATABASE_URL) process.env.TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
  const db = await createTestDatabase("postgres");
  const omen = await startOmenServer({ databaseUrl: db.url, worker: true });
  try {
    const rounds = Math.ceil((RATE * SECONDS) / SERIES);
    const baseMs = Math.floor((Date.now() - (rounds + 10) * STEP_MS - 3_600_000) / STEP_MS) * STEP_MS;
    console.log(`bench:health: ${SERIES} series, ${RATE} samples/s for ${SECONDS} s (${rounds} rounds), health polled every 100 ms`);
    await Promise.all(round(0, baseMs).map((b) => post(omen.url, omen.token, b))); // warm-up: creates the streams
    // the peer in the same run: health latency with no ingest load (the machine's own noise)
    const idle: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      await (await fetch(`${omen.url}/api/health`)).json();
      idle.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 100));
    }
    const latencies: number[] = [];
    let ok = 0;
    let polls = 0;
    let loading = true;
    const poller = (async () => {
      while (loading) {
        const t = performance.now();
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
      const acked = await Promise.all(round(r, baseMs).map((b) => post(omen.url, omen.token, b)));
      sent += acked.filter(Boolean).length * Math.ceil(SERIES / SHARDS);
    }
    const seconds = (performance.now() - t0) / 1000;
    loading = false;
    await poller;
    const f = (x: number) => x.toFixed(1);
    console.log(`  ingest: ${Math.round(sent / seconds)} samples/s acknowledged over ${seconds.toFixed(1)} s (${late} of ${rounds} rounds started late)`);
    console.log(
      `  /api/health: ${polls} polls, p50 ${f(quantile(latencies, 0.5))} ms, p95 ${f(quantile(latencies, 0.95))} ms, p99 ${f(quantile(latencies, 0.99))} ms, max ${f(Math.max(...latencies))} ms; ok in ${ok} of ${polls}`,
    );
    console.log(`  /api/health without load (same run): p50 ${f(quantile(idle, 0.5))} ms, p99 ${f(quantile(idle, 0.99))} ms`);
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
