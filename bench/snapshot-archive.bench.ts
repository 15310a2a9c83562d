/**
 * `npm run -s bench:archive [-- --partitions 16] [--mb 8] [--runs 3] [--db postgres|pglite]`
 *
 * The scale-out leader's snapshot of every partition (Settings → Models, the periodic copy) and
 * one partition's restore from it, the way they were and the way they are, each run in its own
 * process (`node --expose-gc`) against a fresh database (TEST_DATABASE_URL's server, default
 * postgres://postgres@127.0.0.1:5432/postgres; `--db pglite`: an embedded one, hosted by the
 * measuring process, so its memory counts too):
 * - `set` (before): every partition's state read into Node (`readPartitionSnapshots`), joined
 *   into one value (`encodeSnapshotSet`) and written as one `detector_snapshot` row; a restore
 *   reads that whole value and takes its partition out of it.
 * - `rows` (now): `archivePartitions`, one INSERT … SELECT inside the database into a
 *   row per partition; a restore reads its own partition's row (`loadSnapshotSet` → `stateOf`).
 * The partitions' states are written by PostgreSQL itself (sha256 chains: incompressible, like
 * the gzipped states), as rows of 1-MB chunks as the workers store them, so the process holds
 * none of them before the measurement. Printed: wall
 * time, and the process's growth over its settled baseline (RSS, V8 heap, array buffers: Buffers
 * live outside the heap), sampled every 5 ms, and the longest the event loop was held.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { timedPhase, type TimedPhase } from "./lib/phase-timer";

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const num = (name: string, dflt: number): number => {
  const v = Number(arg(name, String(dflt)));
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
};
const BACKEND = arg("db", "postgres") === "pglite" ? "pglite" : "postgres";
const LOG = "bench-samples";
const MB = 1024 * 1024;

type Mode = "set" | "rows";

type Phase = TimedPhase;

interface Measured {
  mode: Mode;
  totalBytes: number;
  archive: Phase;
  restore: Phase;
}

/** Runs `fn`, sampling the process's memory every 5 ms and the event loop's longest hold. */
const phase = timedPhase;

async function measure(mode: Mode, partitions: number, bytesEach: number): Promise<Measured> {
  const { createTestDatabase } = await import("@/server/testing/test-db");
  const { pool } = await import("@/server/db");
  const tdb = await createTestDatabase(BACKEND);
  try {
    // incompressible states written by the server, as the workers store them (a row per 1-MB
    // chunk, server/repos/bytea-chunks.ts): no copy of them in this process
    const chunks = Math.ceil(bytesEach / MB);
    await pool().query(
      `INSERT INTO partition_snapshot (log, partition, msg_seq, state, size_bytes, taken_at, chunk_count)
       SELECT $1, p, 1000 + p, '\\x'::bytea, $3::int * ${MB}, now(), $3 FROM generate_series(0, $2 - 1) AS p`,
      [LOG, partitions, chunks],
    );
    await pool().query(
      `INSERT INTO partition_snapshot_chunk (log, partition, seq, data)
       SELECT $1, p, c, (SELECT string_agg(sha256(((p::bigint * 1000003 + c) * 40009 + i)::text::bytea), ''::bytea) FROM generate_series(1, ${MB / 32}) AS i)
       FROM generate_series(0, $2 - 1) AS p, generate_series(0, $3 - 1) AS c`,
      [LOG, partitions, chunks],
    );
    const total = Number((await pool().query<{ b: string }>("SELECT sum(size_bytes) AS b FROM partition_snapshot")).rows[0]!.b);
    let id = 0;
    let restored = 0;
    let archive: Phase;
    let restore: Phase;
    if (mode === "set") {
      const { readPartitionSnapshots } = await import("@/server/repos/partition-repo");
      const { encodeSnapshotSet, decodeSnapshotSet } = await import("@/lib/scale/snapshot-set");
      const { loadSnapshot, saveSnapshot } = await import("@/server/repos/snapshots-repo");
      // the leader's copy as it was (snapshot-archive.ts before one row per partition)
      archive = await phase(async () => {
        const rows = await readPartitionSnapshots(LOG);
        const blob = encodeSnapshotSet({ log: LOG, partitions, states: rows.map((r) => ({ partition: r.partition, msgSeq: r.msgSeq, feedbackId: r.feedbackId, state: r.state })) });
        id = await saveSnapshot("periodic", Math.max(0, ...rows.map((r) => r.msgSeq)), Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength));
      });
      restore = await phase(async () => {
        const set = decodeSnapshotSet((await loadSnapshot(id))!.state)!;
        restored = set.states.find((s) => s.partition === 0)!.state.byteLength;
      });
    } else {
      const { loadSnapshotSet } = await import("@/server/worker/partitioned/snapshot-archive");
      const { archivePartitions } = await import("@/server/repos/snapshot-archive-repo");
      archive = await phase(async () => {
        id = (await archivePartitions(LOG, partitions, "periodic"))!;
      });
      restore = await phase(async () => {
        const loaded = await loadSnapshotSet(id, LOG, partitions);
        if ("error" in loaded) throw new Error(loaded.error);
        restored = (await loaded.archive.stateOf(0))!.byteLength;
      });
    }
    if (restored !== Math.ceil(bytesEach / MB) * MB) throw new Error(`partition 0 restored ${restored} bytes`);
    return { mode, totalBytes: total, archive, restore };
  } finally {
    await tdb.drop();
  }
}

const f = (x: number, d = 0) => x.toLocaleString("en", { minimumFractionDigits: d, maximumFractionDigits: d });
const mb = (b: number) => `${f(b / 1024 ** 2, 1)} MB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  process.env.TEST_DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/postgres";
  const partitions = num("partitions", 16);
  const bytesEach = num("mb", 8) * 1024 * 1024;
  const child = arg("child", "");
  if (child === "set" || child === "rows") {
    console.log(JSON.stringify(await measure(child, partitions, bytesEach)));
    return;
  }
  const runs = num("runs", 3);
  const self = fileURLToPath(import.meta.url);
  console.log(`snapshot of ${partitions} partitions × ${mb(bytesEach)} on ${BACKEND}, ${runs} run(s) each, median (min–max)`);
  for (const mode of ["set", "rows"] as const) {
    const got: Measured[] = [];
    for (let r = 0; r < runs; r++) {
      const p = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", self, "--child", mode, "--partitions", String(partitions), "--mb", arg("mb", "8"), "--db", BACKEND], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        maxBuffer: 1 << 20,
      });
      const line = p.stdout.split("\n").find((l) => l.startsWith("{"));
      if (p.status !== 0 || !line) throw new Error(`the ${mode} run failed (exit ${p.status})`);
      got.push(JSON.parse(line) as Measured);
    }
    const show = (pick: (m: Measured) => number, fmt: (x: number) => string) => {
      const xs = got.map(pick);
      return `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
    };
    const ms = (x: number) => `${f(x)} ms`;
    const label = mode === "set" ? "before: one value through Node" : "now: a row per partition, copied in the database";
    for (const which of ["archive", "restore"] as const) {
      console.log(
        `${label.padEnd(50)} ${which === "archive" ? "archive of all " : "restore of one"}: ${show((m) => m[which].ms, ms)}; ` +
          `RSS +${show((m) => m[which].rss, mb)}, heap +${show((m) => m[which].heap, mb)}, array buffers +${show((m) => m[which].arrayBuffers, mb)}; ` +
          `event loop held ≤ ${show((m) => m[which].loopMaxMs, ms)}`,
      );
    }
  }
}

await main();
