/**
 * /api/health latency while a ~10 MB CSV (20 streams x 60,000 rows) is imported through the real
 * web process: `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/csv-import.bench.ts`.
 */
import { startOmenServer } from "../server/testing/omen-server";
import { createTestDatabase } from "../server/testing/test-db";
async function main() {
const tdb = await createTestDatabase();
const omen = await startOmenServer({ databaseUrl: tdb.url });
try {
  // ~9 MB wide CSV: 20 streams, 60,000 rows
  const cols = Array.from({ length: 20 }, (_, i) => `stall_${i}`);
  const t0 = 1_750_000_000;
  const lines = ["timestamp," + cols.join(",")];
  for (let r = 0; r < 60_000; r++) lines.push(`${t0 + r * 10},${cols.map((_, i) => (100 + i + Math.sin(r / 30) * 10).toFixed(3)).join(",")}`);
  const body = lines.join("\n") + "\n";
  console.log(`CSV ${(body.length / 1e6).toFixed(1)} MB`);
  for (let i = 0; i < 5; i++) await fetch(`${omen.url}/api/health`).then((r) => r.arrayBuffer());
  const lat: number[] = [];
  let done = false;
  const poll = (async () => {
    while (!done) {
      const s = performance.now();
      await fetch(`${omen.url}/api/health`).then((r) => r.arrayBuffer());
      lat.push(performance.now() - s);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const s = performance.now();
  const res = await fetch(`${omen.url}/api/v1/import/csv`, { method: "POST", headers: { authorization: `Bearer ${omen.token}`, "content-type": "text/csv" }, body });
  const json = await res.text();
  const took = performance.now() - s;
  done = true;
  await poll;
  lat.sort((a, b) => a - b);
  console.log(`import ${res.status} in ${(took / 1000).toFixed(1)} s: ${json.slice(0, 200)}`);
  console.log(`health during import: n=${lat.length} p50=${lat[Math.floor(lat.length / 2)]!.toFixed(0)} ms p99=${lat[Math.floor(lat.length * 0.99)]!.toFixed(0)} ms max=${lat[lat.length - 1]!.toFixed(0)} ms`);
} finally {
  await omen.stop();
  await tdb.drop();
}
}
void main();
