/**
 * Seeds samples, scores, both one-minute rollups and the overview's sparkline points for
 * `streams` streams (ids 1…streams) over `perStream` one-minute steps ending at `endMs`,
 * through the repos the ingest and the worker write with: packed sample block rows by binary
 * COPY (`insertSamplesReturning`), score blocks and one-minute score rows (`insertScores`),
 * value rollup rows (`writeRollup`), sparklines (`updateStreamRecent`).
 *
 * Why not SQL: seeding one row per sample into session tables and packing them with GROUP BY
 * took over 9 minutes for 10 M samples; the storage path takes them in large chunks at
 * COPY speed, and the bench measures data laid out exactly as production writes it.
 *
 * Values: a daily wave per stream plus noise; scores mostly low with a heavy tail. Timestamps
 * sit on whole minutes, so each sample is its own rollup minute (min = max = sum, count 1).
 */
import { createRng } from "../../lib/scenarios/rng";
import { insertSamplesReturning } from "../../server/repos/storage/samples";
import { writeRollup } from "../../server/repos/storage/rollup";
import type { RollupColumns } from "../../server/repos/storage/columns";
import { flushScoreMinutes, insertScores } from "../../server/repos/storage/scores";
import type { SparkColumns } from "../../server/repos/storage/columns";
import { updateStreamRecent, type StreamRecent } from "../../server/repos/storage/stream-recent";

const MINUTE_MS = 60_000;
const SPARK_POINTS = 60;

export interface SeedHistoryOptions {
  streams: number;
  perStream: number;
  endMs: number;
  /** timestamps per write (× streams samples); bounds memory */
  chunk?: number;
  log?: (message: string) => void;
}

export async function seedHistory(o: SeedHistoryOptions): Promise<{ samples: number }> {
  const { streams, perStream } = o;
  const end = Math.floor(o.endMs / MINUTE_MS) * MINUTE_MS;
  const chunk = Math.max(1, Math.min(o.chunk ?? 250, perStream));
  const rng = createRng(42);
  const random = () => rng.next();
  const n = streams * chunk;
  // reused per chunk (the repos encode their COPY payloads before they return)
  const streamIds = new Int32Array(n);
  const tsMs = new Float64Array(n);
  const values = new Float64Array(n);
  const score = new Float64Array(n);
  const confidence = new Float64Array(n).fill(1);
  const expected = new Float64Array(n);
  const lower = new Float64Array(n);
  const upper = new Float64Array(n);
  const count = new Int32Array(n).fill(1);
  let samples = 0;
  for (let k0 = perStream - 1; k0 >= 0; k0 -= chunk) {
    const steps = Math.min(chunk, k0 + 1);
    let i = 0;
    // time-major, as a scrape delivers them: every stream at one timestamp, then the next
    for (let j = 0; j < steps; j++) {
      const k = k0 - j; // minutes before the end
      const t = end - k * MINUTE_MS;
      for (let sid = 1; sid <= streams; sid++, i++) {
        const v = 100 + 20 * Math.sin((k / 1440) * 2 * Math.PI + sid) + 5 * random();
        streamIds[i] = sid;
        tsMs[i] = t;
        values[i] = v;
        score[i] = 100 * random() ** 4;
        expected[i] = 100;
        lower[i] = 90;
        upper[i] = 110;
      }
    }
    const cols = { streamIds: streamIds.subarray(0, i), tsMs: tsMs.subarray(0, i), values: values.subarray(0, i) };
    const { committed } = await insertSamplesReturning(cols, false);
    const lastSeq = committed ? committed.firstSeq + committed.rowStart.length - 2 : 0;
    const rollup: RollupColumns = { rows: i, streamIds: cols.streamIds, bucketMs: cols.tsMs, min: cols.values, max: cols.values, sum: cols.values, count: count.subarray(0, i) };
    // the two derived writes touch different tables: on two connections they overlap
    await Promise.all([
      writeRollup(rollup, lastSeq),
      insertScores({
        streamIds: cols.streamIds,
        tsMs: cols.tsMs,
        score: score.subarray(0, i),
        confidence: confidence.subarray(0, i),
        expected: expected.subarray(0, i),
        lower: lower.subarray(0, i),
        upper: upper.subarray(0, i),
      }),
    ]);
    samples += i;
    if (k0 - steps < 0) await writeRecent(streams, steps, i, { tsMs, values, score });
    o.log?.(`${samples.toLocaleString()} samples and scores`);
  }
  await flushScoreMinutes();
  return { samples };
}

/** The newest sample and the last SPARK_POINTS points of every stream, from the last chunk. */
async function writeRecent(streams: number, steps: number, filled: number, c: { tsMs: Float64Array; values: Float64Array; score: Float64Array }): Promise<void> {
  const points = Math.min(SPARK_POINTS, steps);
  const data = new Float64Array(streams * points * 3);
  const t = new Int32Array(streams);
  const v = new Int32Array(streams);
  const s = new Int32Array(streams);
  const count = new Int32Array(streams).fill(points);
  const rows: StreamRecent[] = [];
  for (let r = 0; r < streams; r++) {
    t[r] = r * points * 3;
    v[r] = t[r]! + points;
    s[r] = v[r]! + points;
    for (let j = 0; j < points; j++) {
      const i = filled - (points - j) * streams + r; // stream r+1 at the j-th of the last `points` timestamps
      data[t[r]! + j] = c.tsMs[i]!;
      data[v[r]! + j] = c.values[i]!;
      data[s[r]! + j] = c.score[i]!;
    }
    const last = filled - streams + r;
    rows.push({ id: r + 1, tsMs: c.tsMs[last]!, value: c.values[last]!, score: c.score[last]! });
  }
  const sparks: SparkColumns = { data, t, v, s, count };
  await updateStreamRecent(rows, sparks);
}
