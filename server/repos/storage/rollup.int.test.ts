import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pool } from "../../db";
import { ingestSeries, invalidateSourceCache } from "../../services/ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { writeRollup as writeRollupColumns } from "./rollup";
import type { RollupColumns, RollupRow } from "./columns";
import { listStreams } from "../streams-repo";

const MIN = 60_000;
const row = (streamId: number, bucketMs: number, v: number, count = 1): RollupRow => ({ streamId, bucketMs, min: v, max: v, sum: v * count, count });
const columnsOf = (rows: RollupRow[]): RollupColumns => ({
  rows: rows.length,
  streamIds: Int32Array.from(rows, (r) => r.streamId),
  bucketMs: Float64Array.from(rows, (r) => r.bucketMs),
  min: Float64Array.from(rows, (r) => r.min),
  max: Float64Array.from(rows, (r) => r.max),
  sum: Float64Array.from(rows, (r) => r.sum),
  count: Int32Array.from(rows, (r) => r.count),
});
/** The rows as the rollup buffer hands them to the repo (column-wise). */
const writeRollup = (rows: RollupRow[], watermark: number) => writeRollupColumns(columnsOf(rows), watermark);

async function rollupOf(streamId: number): Promise<{ t: number; min: number; max: number; sum: number; count: number }[]> {
  const r = await pool().query(
    "SELECT (extract(epoch FROM bucket) * 1000)::float8 AS t, min, max, sum, count FROM sample_rollup_1m WHERE stream_id = $1 ORDER BY bucket",
    [streamId],
  );
  return r.rows.map((x) => ({ t: Number(x.t), min: Number(x.min), max: Number(x.max), sum: Number(x.sum), count: Number(x.count) }));
}

describe.each(availableBackends())("writeRollup on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  it("merges into existing minutes, writes later minutes directly, and falls back when another writer got there first", async () => {
    const t0 = Date.UTC(2026, 10, 1);
    await ingestSeries("s", "remote_write", [{ metric: "m", labels: {}, kind: "gauge", tsMs: [t0], values: [1] }], t0 + 1000);
    const id = (await listStreams())[0]!.id;
    // first write of a stream: merged (its minute may already hold a partial row)
    await pool().query("INSERT INTO sample_rollup_1m (stream_id, bucket, min, max, sum, count) VALUES ($1, to_timestamp($2 / 1000.0), 5, 5, 5, 1)", [id, t0]);
    await writeRollup([row(id, t0, 3)], 10);
    // a later minute, and the one after in the same flush: no existing row can match (direct COPY)
    await writeRollup([row(id, t0 + MIN, 7), row(id, t0 + 2 * MIN, 8)], 20);
    // another writer stored minute 3 meanwhile: the direct COPY collides and the upsert merges
    await pool().query("INSERT INTO sample_rollup_1m (stream_id, bucket, min, max, sum, count) VALUES ($1, to_timestamp($2 / 1000.0), 1, 1, 1, 1)", [id, t0 + 3 * MIN]);
    await writeRollup([row(id, t0 + 3 * MIN, 9, 2)], 30);
    // a late row for an already written minute, twice in one flush
    await writeRollup([row(id, t0 + MIN, 2), row(id, t0 + MIN, 4)], 40);
    expect(await rollupOf(id)).toEqual([
      { t: t0, min: 3, max: 5, sum: 8, count: 2 },
      { t: t0 + MIN, min: 2, max: 7, sum: 13, count: 3 },
      { t: t0 + 2 * MIN, min: 8, max: 8, sum: 8, count: 1 },
      { t: t0 + 3 * MIN, min: 1, max: 9, sum: 19, count: 3 },
    ]);
    const wm = await pool().query("SELECT value FROM setting WHERE key = 'rollup_seq'");
    expect(Number(wm.rows[0].value)).toBe(40);
  });
});
