/**
 * `npm run bench:storage`: bytes on disk per sample and per stream per day, by table.
 *
 * Ingests `--streams` series × `--steps` scrapes 10 s apart (all series at one timestamp, as a
 * Prometheus scrape sends them) into a fresh PostgreSQL database (TEST_DATABASE_URL), has the
 * worker's pipeline score them, folds the rollups, runs VACUUM ANALYZE and sums
 * `pg_total_relation_size` (heap, indexes, TOAST) over each time-partitioned table's day
 * partitions. Per day = per scrape × 8,640.
 *
 * Options: --streams 1024 --steps 360
 */
import { pool } from "../server/db";
import { rollupPending } from "../server/repos/storage/rollup";
import { createEngine } from "../server/services/detection/engine-adapter";
import { ingestSeries } from "../server/services/ingest/ingest-service";
import { createTestDatabase } from "../server/testing/test-db";
import { DetectPipeline } from "../server/worker/pipeline/detect-pipeline";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const STREAMS = arg("streams", 1024);
const STEPS = arg("steps", 360);
const tdb = await createTestDatabase("postgres");
try {
  const t0 = Date.UTC(2026, 11, 1);
  const pipeline = new DetectPipeline(createEngine(), 0, 10_000, 200_000);
  const CH = 60;
  for (let s0 = 0; s0 < STEPS; s0 += CH) {
    const ts = Array.from({ length: Math.min(CH, STEPS - s0) }, (_, k) => t0 + (s0 + k) * 10_000);
    await ingestSeries("size", "remote_write", Array.from({ length: STREAMS }, (_, i) => ({
      metric: "m", labels: { i: String(i) }, kind: "gauge" as const, tsMs: ts, values: ts.map((t) => Math.sin(t / 1e6 + i) * 100 + Math.random()),
    })), t0 + STEPS * 10_000);
    while ((await pipeline.tick(t0 + STEPS * 10_000)) > 0);
  }
  await pipeline.drain();
  await pipeline.flushStreams();
  while ((await rollupPending()) > 0);
  await pipeline.flushScoreMinutes();
  await pool().query("VACUUM ANALYZE");
  const samples = STREAMS * STEPS;
  const res = await pool().query<{ parent: string; parts: number; rows: number; bytes: number; heap: number }>(
    `SELECT p.relname AS parent, count(*)::int AS parts, sum(c.reltuples)::float8 AS rows,
            sum(pg_total_relation_size(c.oid))::float8 AS bytes, sum(pg_relation_size(c.oid))::float8 AS heap
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname IN ('sample_block','score_block','sample_rollup_1m','score_rollup_1m','sample_rollup_5m','score_rollup_5m')
       AND c.reltuples > 0 GROUP BY 1 ORDER BY 1`,
  );
  const perDay = 8640 / STEPS;
  console.log(`${STREAMS} streams × ${STEPS} steps (10 s) = ${samples} samples`);
  let total = 0;
  for (const r of res.rows) {
    total += r.bytes;
    console.log(`${r.parent.padEnd(18)} rows ${String(r.rows).padStart(8)}  rows/sample ${(r.rows / samples).toFixed(4)}  bytes ${String(r.bytes).padStart(10)}  B/sample ${(r.bytes / samples).toFixed(1)}  B/stream/day ${((r.bytes / STREAMS) * perDay / 1024).toFixed(1)} KiB`);
  }
  console.log(`total B/sample ${(total / samples).toFixed(1)}, per stream per day (8,640 samples) ${((total / STREAMS) * perDay / 1024).toFixed(1)} KiB`);
} finally {
  await tdb.drop();
}
