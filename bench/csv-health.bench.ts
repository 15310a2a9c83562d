/**
 * `npm run bench:csv-health`: `/api/health` latency while a large CSV file is imported (issue 14:
 * "a 9 MB CSV import pushed health latency to 6 s"; large imports must not stall other requests).
 *
 * Omen (web + worker, fresh PostgreSQL database from TEST_DATABASE_URL, default the local
 * server) first answers /api/health for 10 s with nothing else running (the same run's peer:
 * the machine's own noise), then imports a generated wide CSV of about `--mb` megabytes
 * (timestamp + `--columns` value columns, 10 s apart, ending an hour ago) through
 * POST /api/v1/import/csv while /api/health is polled every 100 ms. Prints the file size, the
 * import's status, duration and samples, and health latency p50/p95/p99/max during the import.
 *
 * Options: --mb 9 --columns 20
 */
import { createTestDatabase } from "../server/testing/test-db";
import { startOmenServer } from "../server/testing/omen-server";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const MB = arg("mb", 9);
const COLUMNS = arg("columns", 20);
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

async function main(): Promise<void> {
  if (!process.env.TEST_DATABASE_URL) process.env.TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
  const db = await createTestDatabase("postgres");
  const omen = await startOmenServer({ databaseUrl: db.url, worker: true });
  try {
    const csv = wideCsv(MB, COLUMNS);
    const size = Buffer.byteLength(csv.text);
    console.log(`bench:csv-health: ${(size / 2 ** 20).toFixed(1)} MB CSV (${csv.rows} rows × ${COLUMNS} columns), /api/health polled every 100 ms`);
    const quietUntil = performance.now() + 10_000;
    const idle = await pollHealth(omen.url, () => performance.now() > quietUntil);
    let importing = true;
    const during = pollHealth(omen.url, () => !importing);
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
    const f = (x: number) => x.toFixed(1);
    console.log(`  import: HTTP ${res.status} in ${seconds.toFixed(1)} s, ${body?.inserted ?? "?"} samples stored (${Math.round((body?.inserted ?? 0) / seconds)} samples/s)`);
    console.log(
      `  /api/health during the import: ${latencies.length} polls, p50 ${f(quantile(latencies, 0.5))} ms, p95 ${f(quantile(latencies, 0.95))} ms, p99 ${f(quantile(latencies, 0.99))} ms, max ${f(Math.max(...latencies))} ms`,
    );
    console.log(`  /api/health without load (same run): p50 ${f(quantile(idle, 0.5))} ms, p99 ${f(quantile(idle, 0.99))} ms`);
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
