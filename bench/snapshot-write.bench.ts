/**
 * `npm run -s bench:snapshot-write [-- --mb 80] [--chunks 0,1,4,16] [--runs 1] [--db postgres|pglite]`
 *
 * A large detector snapshot's write as the workers make it, with the state sent as one
 * parameter (`--chunks 0`: how it was) or in chunks of N MB (server/repos/bytea-chunks.ts).
 * Each chunk size runs in its own process (`node --expose-gc`) against a fresh database
 * (TEST_DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432/postgres; `--db
 * pglite`: an embedded one hosted by the measuring process, reached through its socket as the
 * worker reaches it, so its Wasm memory and its event loop count too). The state is `--mb` of
 * random bytes (incompressible, like the gzipped snapshots). Timed, in order:
 * `savePartitionSnapshot` (the partition's first snapshot, then one replacing it) and
 * `saveSnapshot` (a `detector_snapshot` row); each is read back and compared byte for byte
 * (not timed). Printed per write: wall time, the longest the event loop was held, and the
 * process's RSS growth over its settled baseline (sampled every 5 ms); and the process's peak
 * RSS over the whole run.
 */
import crypto from "node:crypto";
import { spawnSync } from "node:child_process";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const BACKEND = arg("db", "postgres") === "pglite" ? "pglite" : "postgres";
const MB = 1024 * 1024;

interface Phase {
  ms: number;
  loopMaxMs: number;
  /** RSS growth over the baseline, bytes, largest sample */
  rss: number;
}

interface Measured {
  chunkMb: number;
  bytes: number;
  insert: Phase;
  replace: Phase;
  detector: Phase;
  /** the process's peak RSS over the whole run, bytes */
  peakRss: number;
}

async function phase(fn: () => Promise<void>): Promise<Phase> {
  global.gc?.();
  const base = process.memoryUsage.rss();
  let rss = 0;
  const timer = setInterval(() => (rss = Math.max(rss, process.memoryUsage.rss() - base)), 5);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  loop.disable();
  clearInterval(timer);
  rss = Math.max(rss, process.memoryUsage.rss() - base);
  return { ms, loopMaxMs: loop.max / 1e6, rss };
}

async function measure(chunkMb: number, bytes: number): Promise<Measured> {
  const { createTestDatabase } = await import("@/server/testing/test-db");
  const { readPartitionStart, savePartitionSnapshot } = await import("@/server/repos/partition-repo");
  const { loadSnapshot, saveSnapshot } = await import("@/server/repos/snapshots-repo");
  // 0: one parameter, as before chunking
  const opts = { chunkBytes: chunkMb === 0 ? Number.MAX_SAFE_INTEGER : chunkMb * MB };
  const state = crypto.randomBytes(bytes);
  const tdb = await createTestDatabase(BACKEND);
  try {
    const check = (got: Buffer | undefined, what: string) => {
      if (!got?.equals(state)) throw new Error(`${what}: the state read back is not the one written`);
    };
    const insert = await phase(() => savePartitionSnapshot("bench", 0, 1, state, 0, 0, opts));
    check((await readPartitionStart("bench", 0)).snapshot?.state, "partition insert");
    const replace = await phase(() => savePartitionSnapshot("bench", 0, 2, state, 0, 0, opts));
    const read = await readPartitionStart("bench", 0);
    if (read.snapshot?.msgSeq !== 2) throw new Error("the replacing save did not replace");
    check(read.snapshot.state, "partition replace");
    let id = 0;
    const detector = await phase(async () => {
      id = await saveSnapshot("periodic", 0, state, 20, opts);
    });
    check((await loadSnapshot(id))?.state, "detector_snapshot");
    return { chunkMb, bytes, insert, replace, detector, peakRss: process.resourceUsage().maxRSS * 1024 };
  } finally {
    await tdb.drop();
  }
}

const f = (x: number, d = 0) => x.toLocaleString("en", { minimumFractionDigits: d, maximumFractionDigits: d });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  process.env.TEST_DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/postgres";
  const mb = Number(arg("mb", "80"));
  if (!(mb > 0)) throw new Error("--mb must be positive");
  const child = arg("child", "");
  if (child !== "") {
    console.log(JSON.stringify(await measure(Number(child), Math.round(mb * MB))));
    return;
  }
  const chunks = arg("chunks", "0,1,4,16").split(",").map(Number);
  if (chunks.some((c) => !(c >= 0))) throw new Error("--chunks: sizes in MB, 0 for one parameter");
  const runs = Number(arg("runs", "1"));
  const self = fileURLToPath(import.meta.url);
  console.log(`a ${f(mb)}-MB snapshot written on ${BACKEND}, ${runs} run(s) each (median; event loop and RSS: largest)`);
  console.log("chunk      | partition insert          | partition replace         | detector_snapshot         | peak RSS");
  for (const c of chunks) {
    const got: Measured[] = [];
    for (let r = 0; r < runs; r++) {
      const p = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", self, "--child", String(c), "--mb", String(mb), "--db", BACKEND], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        maxBuffer: 1 << 20,
      });
      if (p.status !== 0) throw new Error(`chunk ${c} MB: child exited ${p.status}`);
      got.push(JSON.parse(p.stdout.trim().split("\n").pop()!) as Measured);
    }
    const col = (k: "insert" | "replace" | "detector") =>
      `${f(median(got.map((m) => m[k].ms)) / 1000, 2).padStart(6)} s, loop ${f(Math.max(...got.map((m) => m[k].loopMaxMs))).padStart(5)} ms, +${f(Math.max(...got.map((m) => m[k].rss)) / MB).padStart(4)} MB`;
    console.log(
      `${(c === 0 ? "one param" : `${c} MB`).padEnd(10)} | ${col("insert")} | ${col("replace")} | ${col("detector")} | ${f(Math.max(...got.map((m) => m.peakRss)) / MB)} MB`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
