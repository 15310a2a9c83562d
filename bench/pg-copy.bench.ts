/**
 * `npm run bench:pg-copy`: PostgreSQL backend CPU per row for the write shapes the ingest path
 * chose between, measured on one connection with binary COPY (the way Omen writes), in a fresh
 * database migrated like Omen's. 20,000 streams × 30 timestamps, one transaction per timestamp.
 *
 * - samples as one indexed row per sample (the layout before sample blocks), in stream-id order
 *   and in random stream order, and as sample blocks (one row per 32 streams and timestamp,
 *   `sample_block`, what Omen writes);
 * - scores as one indexed row per score (the layout before score blocks) and as score blocks
 *   (one row per 32 streams and timestamp, `score_block`).
 *
 * CPU is read from /proc for the backend's pid, so other load on the machine does not count.
 *
 * Then the write every single-worker snapshot makes first (`Worker.snapshot` →
 * `flushScoreMinutes`): each stream's score minute still open, one `score_rollup_1m` row per
 * stream (and the five-minute tier's trigger), at 10,000 and 100,000 streams (`--minute-streams`):
 * wall time and rows, into an empty minute and merged into one written before (a second
 * snapshot in the same minute).
 */
import pg from "pg";
import { cpuMsOfPid } from "./lib/proc-cpu";
import { copyBinaryIn, encodeBinaryCopy, type BinaryColumn } from "../server/repos/storage/pg-binary-copy";
import { packSampleRows } from "../server/repos/storage/sample-blocks";
import { BLOCK_BYTES, packScoreBlocks } from "../server/repos/storage/score-blocks";
import { closeDatabase, configureDatabase } from "../server/db";
import { ScoreMinuteFold } from "../server/repos/storage/score-minute-fold";
import { flushScoreMinutes } from "../server/repos/storage/scores";
import { createTestDatabase } from "../server/testing/test-db";

const STREAMS = 20_000;
const STEPS = 30;
const STEP_MS = 10_000;
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const MINUTE_STREAMS = (arg("minute-streams") ?? "10000,100000").split(",").map(Number);

async function timed(client: pg.Client, pid: number, label: string, table: string, payloads: Buffer[], scores: number): Promise<void> {
  const before = cpuMsOfPid(pid)!;
  for (const p of payloads) {
    await client.query("BEGIN");
    await copyBinaryIn(client as unknown as pg.PoolClient, table, p);
    await client.query("COMMIT");
  }
  const us = ((cpuMsOfPid(pid)! - before) * 1000) / scores;
  console.log(`${label.padEnd(44)} ${us.toFixed(2).padStart(6)} µs of backend CPU per sample`);
}

/**
 * The open score minutes of `streams` streams written as a snapshot writes them: one scored step
 * per stream in a minute that is still open, flushed through the storage module's own path.
 */
async function openMinuteWrite(streams: number, minuteMs: number, merge: boolean): Promise<void> {
  const fold = new ScoreMinuteFold();
  const ids = Int32Array.from({ length: streams }, (_, i) => i + 1);
  const v = (k: number) => Float64Array.from({ length: streams }, (_, i) => k + (i % 13) / 13);
  const tsMs = new Float64Array(streams).fill(minuteMs + (merge ? 30_000 : 10_000));
  fold.add({ streamIds: ids, tsMs, score: v(0), confidence: v(0.5), expected: v(100), lower: v(90), upper: v(110) }, minuteMs + 40_000);
  const t0 = performance.now();
  await flushScoreMinutes(fold);
  const ms = performance.now() - t0;
  console.log(
    `open-minute write, ${streams.toLocaleString("en")} streams${merge ? ", merged into a written minute" : ", fresh minute"}`.padEnd(70) +
      ` ${ms.toFixed(0).padStart(6)} ms, ${streams.toLocaleString("en")} rows (${((ms * 1000) / streams).toFixed(1)} µs per row)`,
  );
}

async function main(): Promise<void> {
  process.env.TEST_DATABASE_URL ??= process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const tdb = await createTestDatabase("postgres");
  const client = new pg.Client({ connectionString: tdb.url });
  await client.connect();
  try {
    // the layout before sample blocks, twice, so that both orders start from an empty index
    for (const t of ["sample_rows", "sample_shuffled"]) await client.query(`CREATE TABLE ${t} (stream_id int, ts timestamptz(3), value float8 NOT NULL, seq int8 NOT NULL, PRIMARY KEY (stream_id, ts) INCLUDE (value))`);
    for (const t of ["sample_rows", "sample_shuffled"]) await client.query(`CREATE INDEX ON ${t} USING brin (seq)`);
    await client.query("CREATE TABLE score_per_row (stream_id int, ts timestamptz(3), score float8 NOT NULL, confidence float8 NOT NULL, expected float8, lower float8, upper float8, PRIMARY KEY (stream_id, ts) INCLUDE (score, confidence, expected, lower, upper))");
    const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    const base = Date.UTC(2026, 10, 1);
    // the block tables are partitioned by day (migration 20261211100000_time_partitions)
    await client.query("SELECT omen_time_partitions(ARRAY[$1::date])", [new Date(base).toISOString().slice(0, 10)]);
    const ids = Int32Array.from({ length: STREAMS }, (_, i) => i + 1);
    const shuffled = Int32Array.from(ids);
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor((((i * 7919) % 104729) / 104729) * (i + 1)); // fixed pseudo-random shuffle
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const values = Float64Array.from({ length: STREAMS }, (_, i) => 100 + (i % 17));
    const ts = (s: number) => new Float64Array(STREAMS).fill(base + s * STEP_MS);
    let seq = 1;
    const sampleCopy = (order: Int32Array, s: number): Buffer => {
      const q = Float64Array.from({ length: STREAMS }, () => seq++);
      const cols: BinaryColumn[] = [{ type: "int4", data: order }, { type: "timestamptz", data: ts(s) }, { type: "float8", data: values }, { type: "int8", data: q }];
      return encodeBinaryCopy(STREAMS, cols);
    };
    const steps = (f: (s: number) => Buffer) => Array.from({ length: STEPS }, (_, s) => f(s));
    await timed(client, pid, "sample rows, in stream-id order", "sample_rows (stream_id, ts, value, seq)", steps((s) => sampleCopy(ids, s)), STREAMS * STEPS);
    await timed(client, pid, "sample rows, in random stream order", "sample_shuffled (stream_id, ts, value, seq)", steps((s) => sampleCopy(shuffled, s)), STREAMS * STEPS);
    await timed(
      client,
      pid,
      "sample blocks (32 samples per row)",
      "sample_block (seq, block, ts, vals)",
      steps((s) => {
        const rows = packSampleRows({ streamIds: ids, tsMs: ts(s), values });
        const q = Float64Array.from({ length: rows.rows }, () => seq++);
        const pos = Int32Array.from(rows.streamIds, (id) => id % 32);
        return encodeBinaryCopy(rows.rows, [
          { type: "int8", data: q },
          { type: "int4", data: rows.block },
          { type: "timestamptz", data: rows.rowTs },
          { type: "float8array", data: rows.values, pos, rowStart: rows.rowStart },
        ]);
      }),
      STREAMS * STEPS,
    );
    const scoreCols = (s: number) => ({ streamIds: ids, tsMs: ts(s), score: values, confidence: values, expected: values, lower: values, upper: values });
    await timed(
      client,
      pid,
      "score, one indexed row per score",
      "score_per_row",
      steps((s) => {
        const c = scoreCols(s);
        return encodeBinaryCopy(STREAMS, [
          { type: "int4", data: c.streamIds },
          { type: "timestamptz", data: c.tsMs },
          ...[c.score, c.confidence].map((data): BinaryColumn => ({ type: "float8", data })),
          ...[c.expected, c.lower, c.upper].map((data): BinaryColumn => ({ type: "float8null", data })),
        ]);
      }),
      STREAMS * STEPS,
    );
    await timed(
      client,
      pid,
      "score blocks (32 scores per row)",
      "score_block (block, ts, mask, data)",
      steps((s) => {
        const b = packScoreBlocks(scoreCols(s));
        const data = Array.from({ length: b.n }, (_, r) => b.data.subarray(r * BLOCK_BYTES, (r + 1) * BLOCK_BYTES));
        return encodeBinaryCopy(b.n, [{ type: "int4", data: b.block }, { type: "timestamptz", data: b.tsMs }, { type: "int4", data: b.mask }, { type: "bytea", data }]);
      }),
      STREAMS * STEPS,
    );
    configureDatabase(tdb.url);
    for (const [k, streams] of MINUTE_STREAMS.entries()) {
      // a minute of its own per size, so each starts from an empty minute
      const minuteMs = base + 86_400_000 + k * 600_000;
      await openMinuteWrite(streams, minuteMs, false);
      await openMinuteWrite(streams, minuteMs, true);
    }
  } finally {
    await closeDatabase();
    await client.end();
    await tdb.drop();
  }
}

void main();
