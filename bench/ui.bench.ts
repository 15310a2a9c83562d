/**
 * UI data benchmark: server time of the overview's data and of 7- and 30-day stream pages' data, with
 * real volume in PostgreSQL (default 1,000 streams × 10,000 samples = 10 M samples, 1-minute
 * cadence so every stream fills the 7-day window; as many score rows; a few thousand anomalies).
 *
 * Seeding goes through the storage path of ingest and the worker (bench/lib/seed-history.ts).
 *
 *   npm run bench:ui                       # seeds database omen_bench_ui once, then measures
 *   npm run bench:ui -- --quick            # 100 streams × 2,000 samples (smoke test)
 *   npm run bench:ui -- --reseed           # drop and seed again
 *   BENCH_DATABASE_URL=postgres://… npm run bench:ui   # server to use (default local postgres)
 *   BENCH_UI_DB=mine_bench_ui npm run bench:ui          # database name (default omen_bench_ui)
 *
 * Measures the same service functions the tRPC procedures call, in process: p50 / p95 / max over
 * many iterations after a warm-up. Target: p95 ≤ 100 ms.
 * - overview: streams.list (every stream) ‖ incidents.openCounts ‖ triage.attention, then
 *   streams.sparklines for the cards of the first view (the page asks for them once it knows the
 *   streams: the two requests are timed one after the other);
 * - stream page: streams.detail, range 7d; range 30d over the first LONG_STREAMS streams, whose
 *   history is extended to 30 days (the others hold PER_STREAM minutes, about 7 days).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";

// The services are server-only modules: run under the react-server condition (as Next does).
if (!process.execArgv.some((a) => a.includes("react-server"))) {
  const r = spawnSync(process.execPath, ["--conditions=react-server", "--import", "tsx", fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}

const quick = process.argv.includes("--quick");
const reseed = process.argv.includes("--reseed");
const STREAMS = quick ? 100 : 1000;
const PER_STREAM = quick ? 2000 : 10_000;
const ITER = quick ? 30 : 200;
/** Streams (one sample block) that hold 30 days of minutes, for the 30-day page. */
const LONG_STREAMS = 32;
const LONG_MINUTES = 30 * 1440;
/** Cards on and near a 1080-pixel-high screen: six 300-pixel columns, about 15 rows in reach. */
const FIRST_VIEW = 100;
const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
/** Database to seed and measure (a name of your own when others bench on the same server). */
const dbName = process.env.BENCH_UI_DB ?? (quick ? "omen_bench_ui_quick" : "omen_bench_ui");
if (!/^[a-z_][a-z0-9_]*$/.test(dbName)) throw new Error(`BENCH_UI_DB must be a plain lower-case identifier, got ${dbName}`);

function dbUrl(): string {
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
}

/** Marks a complete seed: a run stopped half-way leaves none, and the next run seeds again. */
const SEEDED_KEY = "bench_ui_seeded";

function seedKey(): string {
  return `${STREAMS}x${PER_STREAM}+${LONG_STREAMS}x${LONG_MINUTES}`;
}

/** Creates the database unless it holds a complete seed; true when it must be seeded. */
async function ensureDatabase(): Promise<boolean> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [dbName]);
    if (exists.rowCount && !reseed && (await seeded())) return false;
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${dbName}`);
    return true;
  } finally {
    await admin.end();
  }
}

async function seeded(): Promise<boolean> {
  const client = new pg.Client({ connectionString: dbUrl() });
  await client.connect();
  try {
    const r = await client.query<{ value: string }>("SELECT value FROM setting WHERE key = $1", [SEEDED_KEY]).catch(() => ({ rows: [] }));
    return r.rows[0]?.value === seedKey();
  } finally {
    await client.end();
  }
}

async function seed(client: pg.Client, nowMs: number): Promise<void> {
  const { seedHistory } = await import("./lib/seed-history");
  const t0 = performance.now();
  const log = (m: string) => console.log(`  ${m} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  await client.query(`INSERT INTO source (name, kind, updated_at) VALUES ('bench', 'remote_write', now())`);
  await client.query(
    `INSERT INTO stream (source_id, metric, labels, key, kind, "group", unit, last_sample_at, last_value, last_score)
     SELECT 1, 'bench_metric_' || (i % 20), jsonb_build_object('host', 'host-' || i), 'bench_metric_' || (i % 20) || '{host="host-' || i || '"}',
            'gauge', 'group-' || (i % 25), 'ms', to_timestamp($1 / 1000.0), 100, 5
     FROM generate_series(1, $2) AS i`,
    [nowMs, STREAMS],
  );
  log(`${STREAMS} streams`);
  // Samples, scores and rollups through the storage path ingest and the worker use (COPY of
  // packed block rows, in chunks of 250 minutes × all streams).
  let lastLogged = 0;
  // the first LONG_STREAMS streams' older history first (time order, as a worker writes), so
  // their 30-day page has a full window to read; the sparklines come from the newest chunk below
  await seedHistory({ streams: LONG_STREAMS, perStream: LONG_MINUTES - PER_STREAM, endMs: nowMs - PER_STREAM * 60_000, chunk: 2000 });
  log(`${(LONG_STREAMS * (LONG_MINUTES - PER_STREAM)).toLocaleString()} older samples of ${LONG_STREAMS} streams (30 days each)`);
  await seedHistory({
    streams: STREAMS,
    perStream: PER_STREAM,
    endMs: nowMs,
    log: (m) => {
      if (performance.now() - lastLogged < 10_000) return;
      lastLogged = performance.now();
      log(m);
    },
  });
  log(`${(STREAMS * PER_STREAM).toLocaleString()} samples and scores, rollups, sparklines`);
  await client.query(
    `INSERT INTO anomaly (id, engine_id, stream_id, stream_ids, start_at, end_at, peak_score, severity, type, status, updated_at)
     SELECT gen_random_uuid(), 'bench-' || i, 1 + (i % $2), ARRAY[1 + (i % $2)], to_timestamp($1 / 1000.0) - i * interval '2 minutes',
            to_timestamp($1 / 1000.0) - i * interval '2 minutes' + interval '3 minutes', 60 + (i % 40),
            (ARRAY['low','medium','high'])[1 + i % 3]::"Severity", 'point', (ARRAY['open','acknowledged','resolved'])[1 + i % 3]::"AnomalyStatus", now()
     FROM generate_series(1, $3) AS i`,
    [nowMs, STREAMS, STREAMS * 5],
  );
  // Their incidents, one per anomaly (the worker groups them as it writes; bulk SQL does not),
  // numbered like the anomalies' engine ids; written before the anomalies point at them.
  const incidentOf = "substring(a.engine_id FROM 7)::int";
  await client.query(
    `INSERT INTO incident (id, source_id, "group", stream_ids, start_at, end_at, severity, peak_score, type, status, anomaly_count, created_at, updated_at)
     SELECT ${incidentOf}, s.source_id, s."group", ARRAY[a.stream_id], a.start_at, CASE WHEN a.status = 'resolved' THEN a.end_at END,
            a.severity, a.peak_score, a.type, a.status, 1, now(), now()
     FROM anomaly a JOIN stream s ON s.id = a.stream_id`,
  );
  await client.query(`UPDATE anomaly a SET incident_id = ${incidentOf}`);
  await client.query(`SELECT setval('incident_id_seq', (SELECT max(id) FROM incident))`);
  await client.query(`INSERT INTO stream_health (stream_id, health, availability, updated_at) SELECT id, 1, 1, now() FROM stream`);
  await client.query("VACUUM ANALYZE");
  await client.query("INSERT INTO setting (key, value, updated_at) VALUES ($1, $2, now())", [SEEDED_KEY, seedKey()]);
  log("anomalies, health, VACUUM ANALYZE");
}

function stats(xs: number[]): { p50: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { p50: q(0.5), p95: q(0.95), max: s[s.length - 1]! };
}

async function time(name: string, fn: (i: number) => Promise<unknown>): Promise<{ name: string; p50: number; p95: number; max: number }> {
  for (let i = 0; i < 5; i++) await fn(i);
  const xs: number[] = [];
  for (let i = 0; i < ITER; i++) {
    const t = performance.now();
    await fn(i);
    xs.push(performance.now() - t);
  }
  return { name, ...stats(xs) };
}

async function main(): Promise<void> {
  const fresh = await ensureDatabase();
  const url = dbUrl();
  const { migrate } = await import("../server/migrate");
  await migrate(url);
  const { configureDatabase, closeDatabase } = await import("../server/db");
  configureDatabase(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const nowMs = Date.now();
  if (fresh) {
    console.log(`seeding ${dbName}: ${STREAMS} streams × ${PER_STREAM} samples (+ as many scores)…`);
    await seed(client, nowMs);
  }
  const counts = await client.query<{ samples: string; scores: string; rollup: string; anomalies: string; newest: number }>(
    `SELECT (SELECT count(*) FROM sample) AS samples, (SELECT sum(bit_count(mask::bit(32))) FROM score_block) AS scores, (SELECT count(*) FROM sample_rollup_1m) AS rollup,
            (SELECT count(*) FROM anomaly) AS anomalies, (SELECT extract(epoch FROM max(ts)) * 1000 FROM sample)::float8 AS newest`,
  );
  await client.end();
  const c = counts.rows[0]!;
  console.log(`database ${dbName}: ${Number(c.samples).toLocaleString()} samples, ${Number(c.scores).toLocaleString()} scores, ${Number(c.rollup).toLocaleString()} rollup rows, ${c.anomalies} anomalies`);

  const { listStreamsWithSeverity, streamSparklines, getStreamDetail } = await import("../server/services/streams/stream-service");
  const { openIncidentCounts } = await import("../server/services/incidents/incident-service");
  const { findAnomalies } = await import("../server/services/anomalies/anomaly-service");
  const { needsAttention } = await import("../server/services/triage/attention-service");
  const { listIncidents } = await import("../server/repos/incidents-repo");
  // Measure "now" as the newest sample (a re-used database keeps its data's time).
  const now = c.newest;
  let points = 0;
  let monthPoints = 0;
  const results = [
    await time(`overview: streams.list (${STREAMS} streams) ‖ open incident counts ‖ needs attention, then sparklines of the first ${FIRST_VIEW}`, async () => {
      const [list] = await Promise.all([listStreamsWithSeverity({ limit: 1000 }, now), openIncidentCounts(), needsAttention(now)]);
      if (list.length !== STREAMS) throw new Error(`expected ${STREAMS} streams, got ${list.length}`);
      const sparks = await streamSparklines(list.slice(0, FIRST_VIEW).map((s) => s.id), now);
      if (sparks.length !== FIRST_VIEW || sparks[0]!.t.length === 0) throw new Error(`expected ${FIRST_VIEW} sparklines with points`);
    }),
    await time("stream page: streams.detail range 7d (values + band + scores)", async (i) => {
      const d = await getStreamDetail(1 + ((i * 37) % STREAMS), "7d", now);
      points = Math.max(points, d.series.length, d.scores.length);
    }),
    await time(`stream page: streams.detail range 30d (values + band + scores; ${LONG_STREAMS} streams with 30 days)`, async (i) => {
      const d = await getStreamDetail(1 + ((i * 7) % LONG_STREAMS), "30d", now);
      monthPoints = Math.max(monthPoints, d.series.length, d.scores.length);
    }),
    await time("stream page: streams.detail range 1h (raw samples)", async (i) => {
      await getStreamDetail(1 + ((i * 53) % STREAMS), "1h", now);
    }),
    await time("anomalies: list open, newest first, 50 rows", async () => {
      await findAnomalies({ status: ["open"], sort: "start", dir: "desc", limit: 50 });
    }),
    await time("incidents: list open, newest first, 50 rows", async () => {
      await listIncidents({ status: ["open"], sort: "start", dir: "desc", limit: 50 });
    }),
  ];
  await closeDatabase();
  console.log(`\nserver time over ${ITER} iterations (ms); 7-day page ships at most ${points} points per series, 30-day page ${monthPoints}`);
  console.log("p50      p95      max      query");
  for (const r of results) console.log(`${r.p50.toFixed(1).padEnd(9)}${r.p95.toFixed(1).padEnd(9)}${r.max.toFixed(1).padEnd(9)}${r.name}`);
  const worst = Math.max(results[0]!.p95, results[1]!.p95, results[2]!.p95);
  console.log(`\ntarget p95 ≤ 100 ms for the overview and the 7- and 30-day pages: ${worst <= 100 ? "met" : "NOT met"} (worst p95 ${worst.toFixed(1)} ms)`);
}

main().catch((e: unknown) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
