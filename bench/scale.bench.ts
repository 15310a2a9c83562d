/**
 * `npm run -s bench:scale [-- --quick] [--sizes 15625,31250,62500] [--days 3] [--series 1000000]
 * [--partitions 16] [--scrape 15] [--budget-gib 8] [--cores 1] [--engine-share 0.5] [--snapshot-every 5]
 * [--worker-base-mb 256] [--save FILE | --load FILE] [--db [pglite]]`
 *
 * What one partition of the scale-out group costs on this machine, and what a million active
 * series need. Each size runs in its own process (`node --expose-gc`), holding the engine a
 * partition runner holds (withSettings(createEngine()), streams added as they first
 * arrive), stepped over `--days` of 5-minute points with a daily pattern: Holt-Winters adopts
 * the daily season after two days, so its season ring and the season-break bank are in use
 * when the last day is timed. The snapshot is taken as PartitionRunner takes it (the binary
 * state container copied in slices, `packEngine`, then gzip on libuv's pool: see
 * server/services/detection/engine-snapshot.ts), and restored as the partition's next owner
 * restores it. `serialize` is the copy's wall time (the event loop is free between its slices). While it is taken, `monitorEventLoopDelay` records the longest the event loop was
 * held (what a partition runner's other partitions, NATS heartbeats and leases wait through).
 * The default sizes are one partition at a million series with 64, 32 and 16 partitions.
 * `--db` also writes the gzipped snapshot to PostgreSQL (a fresh database on TEST_DATABASE_URL's
 * server, default postgres://postgres@127.0.0.1:5432/postgres; `--db pglite`: an embedded one) as
 * the workers do, replaces it, and reads it back.
 * The projection is lib/scale/worker-sizing.ts.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { DEFAULT_SETTINGS } from "@/lib/config/settings";
import { decodeF64Column, getNumber, getObject, isRecord } from "@/lib/detectors/codec";
import type { TStreamKind } from "@/lib/schemas/stream";
import { planWorkers, type MeasuredCost, type SizingAssumptions } from "@/lib/scale/worker-sizing";
import { readSnapshotState } from "@/server/services/detection/clock-domains";
import { createEngine, restoreEngine, withSettings } from "@/server/services/detection/engine-adapter";
import { compressState, packEngine } from "@/server/services/detection/engine-snapshot";

const gunzip = promisify(zlib.gunzip);

const argv = process.argv.slice(2);
const has = (name: string) => argv.includes(`--${name}`);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const num = (name: string, dflt: number): number => {
  const v = Number(arg(name, String(dflt)));
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};

const DAY_MS = 86_400_000;
const STEP_MS = 300_000;
/** one in this many streams is a counter (cumulative, turned into a rate by the engine) */
const COUNTER_EVERY = 5;
const HEAP_MB = 6144;
/** `--db` or `--db postgres`: TEST_DATABASE_URL's server; `--db pglite`: an embedded database in the measuring process */
const DB_BACKEND = arg("db", "postgres") === "pglite" ? "pglite" : "postgres";

interface Measured {
  streams: number;
  steps: number;
  /** bytes per stream after GC: V8 heap, array buffers (typed arrays live outside the heap) */
  heapPerStream: number;
  buffersPerStream: number;
  residentPerStream: number;
  /** engine time per stream-point over the last day (season adopted) and over the whole run */
  lastDayNsPerPoint: number;
  allNsPerPoint: number;
  seasonal: number;
  daily: number;
  rawBytes: number;
  gzBytes: number;
  serializeMs: number;
  gzipMs: number;
  /** memory growth while serializing (the state's strings and the buffer; garbage not yet collected included) */
  transientBytes: number;
  restoreMs: number;
  /** the longest the event loop was held while the snapshot was taken (serialize + gzip) */
  maxBlockMs: number;
  peakRssMb: number;
  /** --db: the gzipped snapshot written to and read from PostgreSQL (absent without --db) */
  db?: SnapshotDbTimes;
}

/** The snapshot's trip through PostgreSQL as the workers make it (one bytea parameter each way). */
interface SnapshotDbTimes {
  /** savePartitionSnapshot: the partition's first snapshot (INSERT) and the next one replacing it (the upsert of every later save) */
  insertMs: number;
  replaceMs: number;
  /** the longest the event loop was held during those two writes */
  writeMaxBlockMs: number;
  /** WAL written by the replacing save, bytes */
  replaceWalBytes: number;
  /** saveSnapshot: the same bytes as a detector_snapshot row (the single worker's snapshot, the leader's periodic copy) */
  detectorSnapshotMs: number;
  /** readPartitionStart: what a partition's next owner reads before it restores */
  readMs: number;
}

/** Writes and reads `packed` as the workers do, in a fresh database on TEST_DATABASE_URL's server. */
async function snapshotThroughDb(packed: Buffer, backend: "postgres" | "pglite"): Promise<SnapshotDbTimes> {
  const { createTestDatabase } = await import("@/server/testing/test-db");
  const { pool } = await import("@/server/db");
  const { readPartitionStart, savePartitionSnapshot } = await import("@/server/repos/partition-repo");
  const { saveSnapshot } = await import("@/server/repos/snapshots-repo");
  const tdb = await createTestDatabase(backend);
  try {
    const lsn = async () => (await pool().query<{ l: string }>("SELECT pg_current_wal_lsn()::text AS l")).rows[0]!.l;
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    let t = performance.now();
    await savePartitionSnapshot("bench", 0, 1, packed);
    const insertMs = performance.now() - t;
    const lsn0 = await lsn();
    t = performance.now();
    await savePartitionSnapshot("bench", 0, 2, packed);
    const replaceMs = performance.now() - t;
    const lsn1 = await lsn();
    loop.disable();
    const wal = (await pool().query<{ b: string }>("SELECT pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn) AS b", [lsn0, lsn1])).rows[0]!.b;
    t = performance.now();
    await saveSnapshot("periodic", 0, packed);
    const detectorSnapshotMs = performance.now() - t;
    t = performance.now();
    const read = await readPartitionStart("bench", 0);
    const readMs = performance.now() - t;
    if (read.snapshot?.state.length !== packed.length) throw new Error("the snapshot read back is not the one written");
    return { insertMs, replaceMs, writeMaxBlockMs: loop.max / 1e6, replaceWalBytes: Number(wal), detectorSnapshotMs, readMs };
  } finally {
    await tdb.drop();
  }
}

/** A seeded generator (no Math.random: runs compare). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

async function measure(streams: number, days: number): Promise<Measured> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc (npm run -s bench:scale does)");
  const used = () => {
    const m = process.memoryUsage();
    return { heap: m.heapUsed, buffers: m.arrayBuffers, resident: m.heapUsed + m.external };
  };
  gc();
  const before = used();

  // per stream: level, daily amplitude and phase, a second harmonic, noise; counters add a daily-shaped rate
  const rnd = lcg(streams);
  const level = new Float64Array(streams);
  const amp = new Float64Array(streams);
  const phase = new Float64Array(streams);
  const noise = new Float64Array(streams);
  const kinds: TStreamKind[] = [];
  for (let i = 0; i < streams; i++) {
    level[i] = 10 ** (1 + 3 * rnd());
    amp[i] = level[i]! * (0.1 + 0.5 * rnd());
    phase[i] = 2 * Math.PI * rnd();
    noise[i] = amp[i]! * (0.02 + 0.1 * rnd());
    kinds.push(i % COUNTER_EVERY === 0 ? "counter" : "gauge");
  }
  const total = new Float64Array(streams);
  let spare = NaN;
  const gauss = () => {
    if (!Number.isNaN(spare)) {
      const g = spare;
      spare = NaN;
      return g;
    }
    const u = Math.max(rnd(), 1e-12);
    const r = Math.sqrt(-2 * Math.log(u));
    const t = 2 * Math.PI * rnd();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };

  const engine = withSettings(createEngine());
  engine.setSettings(DEFAULT_SETTINGS, new Map());
  const ids = Array.from({ length: streams }, (_, i) => i + 1);
  const values = new Float64Array(streams);
  const ts = new Float64Array(streams);
  const t0 = Date.UTC(2026, 11, 1);
  const steps = Math.round((days * DAY_MS) / STEP_MS);
  const lastDayFrom = steps - DAY_MS / STEP_MS;
  let allMs = 0;
  let lastDayMs = 0;
  for (let k = 0; k < steps; k++) {
    const t = t0 + k * STEP_MS;
    const day = (2 * Math.PI * (t - t0)) / DAY_MS;
    for (let i = 0; i < streams; i++) {
      const shape = Math.sin(day + phase[i]!) + 0.3 * Math.sin(2 * day + 2 * phase[i]!);
      // rare spikes, so the event path runs as it does on real data
      const spike = rnd() < 1e-4 ? 8 * noise[i]! : 0;
      const x = level[i]! + amp[i]! * shape + noise[i]! * gauss() + spike;
      if (kinds[i] === "counter") values[i] = total[i]! += Math.max(0, x) * (STEP_MS / 1000);
      else values[i] = x;
      ts[i] = t;
    }
    if (k === 0) for (const id of ids) engine.addStream(id, kinds[id - 1]!, 0); // as PartitionRunner: when a stream first arrives
    const a = performance.now();
    engine.step(t, ids, values, ts, 0);
    const ms = performance.now() - a;
    allMs += ms;
    if (k >= lastDayFrom) lastDayMs += ms;
  }
  gc();
  const after = used();

  // the partition runner's snapshot: serialize on the event loop, gzip on libuv's pool
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  await new Promise((r) => setTimeout(r, 50));
  const s0 = performance.now();
  const raw = await packEngine(engine);
  const serializeMs = performance.now() - s0;
  const transient = used().resident - after.resident;
  const g0 = performance.now();
  const packed = await compressState(raw);
  const gzipMs = performance.now() - g0;
  await new Promise((r) => setTimeout(r, 50));
  loop.disable();
  const maxBlockMs = loop.max / 1e6;

  // how many streams adopted a season, and a daily one (the season-break bank's condition)
  const hw = holtWintersOf(readSnapshotState(raw));
  const period = decodeF64Column(hw.cols.period);
  if (!period || period.length < hw.size) throw new Error("no Holt-Winters period column in the snapshot");
  let seasonal = 0;
  let daily = 0;
  for (let i = 0; i < hw.size; i++) {
    if (period[i]! > 0) seasonal++;
    if (period[i]! >= 12 * 3_600_000) daily++;
  }

  const r0 = performance.now();
  const restored = restoreEngine(await gunzip(packed));
  const restoreMs = performance.now() - r0;
  if (restored.streamIds().length !== streams) throw new Error("the restored snapshot lost streams");

  const db = has("db") ? await snapshotThroughDb(packed, DB_BACKEND) : undefined;

  return {
    streams,
    steps,
    heapPerStream: (after.heap - before.heap) / streams,
    buffersPerStream: (after.buffers - before.buffers) / streams,
    residentPerStream: (after.resident - before.resident) / streams,
    lastDayNsPerPoint: (lastDayMs * 1e6) / (streams * (steps - lastDayFrom)),
    allNsPerPoint: (allMs * 1e6) / (streams * steps),
    seasonal,
    daily,
    rawBytes: raw.length,
    gzBytes: packed.length,
    serializeMs,
    gzipMs,
    transientBytes: transient,
    restoreMs,
    maxBlockMs,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    ...(db ? { db } : {}),
  };
}

/** The Holt-Winters bank's size and columns in a saved state. */
function holtWintersOf(state: unknown): { size: number; cols: Record<string, unknown> } {
  const hw = getObject(getObject(isRecordOrThrow(state), "engine"), "hw");
  return { size: getNumber(hw, "size"), cols: getObject(hw, "cols") };
}

function isRecordOrThrow(v: unknown): Record<string, unknown> {
  if (!isRecord(v)) throw new Error("the snapshot holds no engine state");
  return v;
}

const f = (x: number, d = 1) => x.toLocaleString("en", { minimumFractionDigits: d, maximumFractionDigits: d });
const kb = (b: number) => `${f(b / 1024)} KB`;
const mb = (b: number) => `${f(b / 1024 ** 2)} MB`;
const gib = (b: number) => `${f(b / 1024 ** 3)} GiB`;

function runChild(streams: number, days: number): Measured {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ["--expose-gc", `--max-old-space-size=${HEAP_MB}`, "--import", "tsx", self, "--child", String(streams), "--days", String(days), ...(has("db") ? ["--db", DB_BACKEND] : [])], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
  });
  const line = r.stdout.split("\n").find((l) => l.startsWith("{"));
  if (r.status !== 0 || !line) throw new Error(`the run with ${streams} streams failed (exit ${r.status})`);
  return JSON.parse(line) as Measured;
}

async function main(): Promise<void> {
  const days = num("days", 3);
  if (has("db")) process.env.TEST_DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/postgres";
  if (has("child")) {
    console.log(JSON.stringify(await measure(num("child", 1000), days)));
    return;
  }
  const quick = has("quick");
  const sizes = arg("sizes", quick ? "2000,4000" : "15625,31250,62500").split(",").map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error("--sizes takes positive integers, e.g. 15625,31250,62500");
  const a: SizingAssumptions = {
    series: num("series", 1_000_000),
    partitions: num("partitions", 16),
    scrapeIntervalS: num("scrape", 15),
    snapshotEveryS: num("snapshot-every", 5),
    workerMemoryBytes: num("budget-gib", 8) * 1024 ** 3,
    workerCores: num("cores", 1),
    engineShare: num("engine-share", 0.5),
  };

  console.log(`engine of one partition, ${days} days of 5-minute points per stream (1 in ${COUNTER_EVERY} a counter), each size in its own process:`);
  // --save keeps the measurements, --load projects again from them with other assumptions
  const load = arg("load", "");
  const runs: Measured[] = load ? (JSON.parse(fs.readFileSync(load, "utf8")) as Measured[]) : [];
  for (const n of load ? [] : sizes) runs.push(runChild(n, days));
  if (arg("save", "")) fs.writeFileSync(arg("save", ""), JSON.stringify(runs));
  for (const m of runs) {
    const n = m.streams;
    console.log(
      `  ${f(n, 0).padStart(7)} streams: ${kb(m.residentPerStream)}/stream resident (heap ${kb(m.heapPerStream)}, array buffers ${kb(m.buffersPerStream)}); ` +
        `step ${f(m.lastDayNsPerPoint, 0)} ns/point on day ${days} (${f(1e6 / m.lastDayNsPerPoint, 0)} k points/s per core; whole run ${f(m.allNsPerPoint, 0)} ns); ` +
        `season adopted ${f((100 * m.seasonal) / n, 0)} % (daily ${f((100 * m.daily) / n, 0)} %)`,
    );
    console.log(
      `  ${" ".repeat(16)} snapshot ${mb(m.gzBytes)} gzipped (${mb(m.rawBytes)} raw, ${kb(m.gzBytes / n)}/stream) in ${f(m.serializeMs + m.gzipMs, 0)} ms ` +
        `(serialize ${f(m.serializeMs, 0)} + gzip ${f(m.gzipMs, 0)}), ${mb(m.transientBytes)} held meanwhile; restore ${f(m.restoreMs, 0)} ms; event loop held ${f(m.maxBlockMs, 0)} ms at most; peak RSS ${f(m.peakRssMb, 0)} MB`,
    );
    if (m.db) {
      console.log(
        `  ${" ".repeat(16)} ${DB_BACKEND === "pglite" ? "PGlite" : "PostgreSQL"}: partition_snapshot insert ${f(m.db.insertMs, 0)} ms, replace ${f(m.db.replaceMs, 0)} ms (${mb(m.db.replaceWalBytes)} of WAL), event loop held ${f(m.db.writeMaxBlockMs, 0)} ms at most; ` +
          `detector_snapshot insert ${f(m.db.detectorSnapshotMs, 0)} ms; read by the next owner ${f(m.db.readMs, 0)} ms`,
      );
    }
  }

  // the projection takes its per-stream figures from the run nearest a partition's size
  const target = a.series / a.partitions;
  const ref = runs.reduce((b, m) => (Math.abs(Math.log(m.streams / target)) < Math.abs(Math.log(b.streams / target)) ? m : b));
  const cost: MeasuredCost = {
    bytesPerStream: ref.residentPerStream,
    workerBaseBytes: num("worker-base-mb", 256) * 1024 ** 2,
    stepNsPerPoint: ref.lastDayNsPerPoint,
    snapshotBytesPerStream: ref.gzBytes / ref.streams,
    snapshotMsPerStream: (ref.serializeMs + ref.gzipMs) / ref.streams,
    // (runs saved before the hold was measured: the serialize time, which held the loop whole)
    loopHoldMsPerStream: (ref.maxBlockMs ?? ref.serializeMs) / ref.streams,
    snapshotTransientBytesPerStream: Math.max(0, ref.transientBytes) / ref.streams,
    restoreMsPerStream: ref.restoreMs / ref.streams,
  };
  const p = planWorkers(a, cost);
  const s = (ms: number) => `${f(ms / 1000)} s`;
  console.log(`\nprojection to ${f(a.series, 0)} active series, ${a.partitions} partitions, one sample per series every ${a.scrapeIntervalS} s (per-stream figures of the ${f(ref.streams, 0)}-stream run):`);
  console.log(`  assumptions: a worker may use ${gib(a.workerMemoryBytes)} (heap + array buffers) and ${a.workerCores} core; the engine is ${f(a.engineShare * 100, 0)} % of the scoring path's CPU (NATS, score rows,`);
  console.log(`               PostgreSQL the rest); a partition snapshots every ${a.snapshotEveryS} s while it has new data; an idle worker takes ${mb(cost.workerBaseBytes)};`);
  console.log(`               a worker holds one snapshot's memory growth at a time; figures from a shared machine (timings vary ±30 % between runs)`);
  console.log(`  load                 ${f(p.pointsPerS / 1000)} k points/s`);
  console.log(`  detector memory      ${gib(p.detectorBytes)} in all, ${mb(p.partitionBytes)} per partition of ${f(p.seriesPerPartition, 0)} series`);
  console.log(`  snapshot/partition   ${mb(p.snapshotBytesPerPartition)} gzipped, ${s(p.snapshotMsPerPartition)} of CPU (${f(p.snapshotDutyPerPartition * 100, 0)} % of a core at one every ${a.snapshotEveryS} s); holds the event loop ${s(p.stallMsPerPartition)}`);
  console.log(`  move of a partition  ${s(p.restoreMsPerPartition)} to restore its snapshot (gunzip + restore)`);
  console.log(`  scoring CPU          ${f(p.engineCores, 2)} cores of engine, ${f(p.scoringCores, 2)} with the rest of the path; ${f(p.coresPerPartition, 2)} cores per partition with snapshots`);
  console.log(`  busiest worker by W:`);
  for (const l of p.byWorkers.filter((l) => [1, 2, 3, 4, 6, 8, 12, 16].includes(l.workers) || l.workers === p.workers)) {
    const over = [l.memoryBytes > a.workerMemoryBytes ? "memory" : "", l.cores > a.workerCores ? "CPU" : ""].filter(Boolean).join(" and ");
    console.log(`    W=${String(l.workers).padStart(3)}: ${String(l.partitions).padStart(3)} partitions, ${gib(l.memoryBytes).padStart(9)}, ${f(l.cores, 2).padStart(5)} cores  ${over ? `over budget (${over})` : "fits"}`);
  }
  console.log(`  workers needed       ${p.workers ?? `none of 1..${a.partitions}: one partition per worker is already over budget`}`);

  console.log(`\nworkers needed by partition count and snapshot interval (same series, scrape and budget):`);
  const intervals = [5, 60, 300];
  console.log(`  partitions  series each  snapshot  CPU/snapshot  event-loop hold  restore  ${intervals.map((i) => `every ${i} s`.padStart(12)).join("")}`);
  for (const parts of [16, 32, 64, 128]) {
    const q = planWorkers({ ...a, partitions: parts }, cost);
    const need = intervals.map((i) => String(planWorkers({ ...a, partitions: parts, snapshotEveryS: i }, cost).workers ?? "none").padStart(12)).join("");
    console.log(
      `  ${String(parts).padStart(10)}  ${f(q.seriesPerPartition, 0).padStart(11)}  ${mb(q.snapshotBytesPerPartition).padStart(8)}  ${s(q.snapshotMsPerPartition).padStart(12)}  ${s(q.stallMsPerPartition).padStart(15)}  ${s(q.restoreMsPerPartition).padStart(7)}  ${need}`,
    );
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
