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
 * `saveSnapshot` (a `detector_snapshot` row); each is read back as its readers read it
 * (`readPartitionStart`, `loadSnapshot`), timed too, and compared byte for byte. Printed per
 * write and read: wall time, the longest the event loop was held, and the process's RSS growth
 * over its settled baseline (sampled every 5 ms); and the process's peak RSS over the whole run.
 */
import crypto from "node:crypto";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { timedPhase, type TimedPhase } from "./lib/phase-timer";

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const BACKEND = arg("db", "postgres") === "pglite" ? "pglite" : "postgres";
const MB = 1024 * 1024;

type Phase = TimedPhase;

const PHASES = {
  insert: "partition snapshot, first save",
  insertRead: "  read (readPartitionStart)",
  replace: "partition snapshot, replacing save",
  replaceRead: "  read (readPartitionStart)",
  detector: "detector_snapshot save",
  detectorRead: "  read (loadSnapshot)",
} as const;
type PhaseName = keyof typeof PHASES;

interface Measured {
  chunkMb: number;
  bytes: number;
  phases: Record<PhaseName, Phase>;
  /** the process's peak RSS over the whole run, bytes */
  peakRss: number;
}

const phase = timedPhase;

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
    // the read's result is kept past its phase (so its memory counts) and checked after it
    const timedRead = async (read: () => Promise<Buffer | undefined>, what: string): Promise<Phase> => {
      let got: Buffer | undefined;
      const p = await phase(async () => {
        got = await read();
      });
      check(got, what);
      return p;
    };
    const insert = await phase(() => savePartitionSnapshot("bench", 0, 1, state, 0, 0, opts));
    const insertRead = await timedRead(async () => (await readPartitionStart("bench", 0)).snapshot?.state, "partition insert");
    const replace = await phase(() => savePartitionSnapshot("bench", 0, 2, state, 0, 0, opts));
    if ((await readPartitionStart("bench", 0)).snapshot?.msgSeq !== 2) throw new Error("the replacing save did not replace");
    const replaceRead = await timedRead(async () => (await readPartitionStart("bench", 0)).snapshot?.state, "partition replace");
    let id = 0;
    const detector = await phase(async () => {
      id = await saveSnapshot("periodic", 0, state, 20, opts);
    });
    const detectorRead = await timedRead(async () => (await loadSnapshot(id))?.state, "detector_snapshot");
    return { chunkMb, bytes, phases: { insert, insertRead, replace, replaceRead, detector, detectorRead }, peakRss: process.resourceUsage().maxRSS * 1024 };
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
    console.log(`chunk ${c === 0 ? "one param" : `${c} MB`}: peak RSS ${f(Math.max(...got.map((m) => m.peakRss)) / MB)} MB`);
    for (const [k, label] of Object.entries(PHASES) as [PhaseName, string][]) {
      const ms = median(got.map((m) => m.phases[k].ms));
      const loop = Math.max(...got.map((m) => m.phases[k].loopMaxMs));
      const rss = Math.max(...got.map((m) => m.phases[k].rss));
      console.log(`  ${label.padEnd(36)} ${f(ms / 1000, 2).padStart(7)} s   loop ${f(loop).padStart(6)} ms   RSS +${f(rss / MB).padStart(5)} MB`);
    }
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
