import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pool } from "../../db";
import { ingestSeries, invalidateSourceCache } from "../../services/ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { packSampleRowsSql } from "./sample-blocks";
import { countSamples, insertSamplesReturning, readSamplesAfter, readSeries, sampleAt, sequenceHead } from "./samples";
import { rollupPending } from "./rollup";
import { listStreams } from "../streams-repo";

describe.each(availableBackends())("sample blocks on %s", (backend) => {
  let tdb: TestDatabase;
  let ids: number[];
  const t0 = Date.UTC(2026, 10, 2);
  const s = 10_000;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    // 40 streams: ids span two blocks of 32
    await ingestSeries("s", "remote_write", Array.from({ length: 40 }, (_, i) => ({ metric: `m${i}`, labels: {}, kind: "gauge" as const, tsMs: [t0], values: [i] })), t0 + 1000);
    ids = (await listStreams()).map((x) => x.id).sort((a, b) => a - b);
  });
  afterAll(async () => tdb.drop());

  const cols = (rows: [number, number, number][]) => ({ streamIds: rows.map((r) => r[0]), tsMs: rows.map((r) => r[1]), values: rows.map((r) => r[2]) });

  it("stores one row per block and timestamp, and the view shows one row per sample", async () => {
    const blocks = await pool().query<{ n: number; max: number }>("SELECT count(*)::int AS n, max(cardinality(array_remove(vals, NULL)))::int AS max FROM sample_block");
    // 40 consecutive ids in one request: two or three block rows (depending on where ids start), not 40 rows
    expect(blocks.rows[0]!.n).toBeLessThanOrEqual(3);
    expect(blocks.rows[0]!.max).toBeGreaterThanOrEqual(14);
    expect(await countSamples()).toBe(40);
    const view = await pool().query<{ stream_id: number; value: number }>("SELECT stream_id, value FROM sample ORDER BY stream_id");
    expect(view.rows.map((r) => [r.stream_id, r.value])).toEqual(ids.map((id, i) => [id, i]));
  });

  it("keeps the first value of a re-sent sample, also when the re-send shares a row with new samples", async () => {
    const [a, b, c] = ids;
    const first = await insertSamplesReturning(cols([[a!, t0 + s, 1], [b!, t0 + s, 2]]), true);
    expect(first.result).toEqual({ received: 2, inserted: 2 });
    expect(first.newRows).toBe("all");
    // same (stream, ts) with other values, plus a new slot of the same block and timestamp
    const again = await insertSamplesReturning(cols([[a!, t0 + s, 100], [b!, t0 + s, 200], [c!, t0 + s, 3]]), true);
    expect(again.result).toEqual({ received: 3, inserted: 1 });
    expect(again.newRows).toEqual([{ streamId: c, tsMs: t0 + s }]);
    expect(await sampleAt(a!, t0 + s)).toBe(1);
    expect(await sampleAt(c!, t0 + s)).toBe(3);
    expect(await sampleAt(c!, t0 + 2 * s)).toBeNull();
    // the same sample twice in one batch: the first counts
    const dup = await insertSamplesReturning(cols([[a!, t0 + 2 * s, 7], [a!, t0 + 2 * s, 8]]), false);
    expect(dup.result).toEqual({ received: 2, inserted: 1 });
    expect(await sampleAt(a!, t0 + 2 * s)).toBe(7);
    // everything already stored: nothing written, no seq drawn
    const head = await sequenceHead();
    const none = await insertSamplesReturning(cols([[a!, t0 + s, 5]]), true);
    expect(none.result.inserted).toBe(0);
    expect(none.committed).toBeUndefined();
    expect(await sequenceHead()).toBe(head);
  });

  it("checks stored slots for streams another process may write (shared), even when newer than what this process wrote", async () => {
    const e = ids[10]!;
    await insertSamplesReturning(cols([[e, t0 + 50 * s, 1]]), false);
    // another process (e.g. the CSV CLI) stores the next sample of the same stream
    await pool().query("INSERT INTO sample_block (block, ts, vals) VALUES ($1, to_timestamp($2 / 1000.0), array_fill(NULL::float8, ARRAY[$3::int]) || ARRAY[42::float8])", [Math.floor(e / 32), t0 + 51 * s, e % 32]);
    const shared = await insertSamplesReturning(cols([[e, t0 + 51 * s, 2]]), true, true);
    expect(shared.result.inserted).toBe(0);
    expect(await sampleAt(e, t0 + 51 * s)).toBe(42);
  });

  it("reads one stream's range from the blocks, NaN included", async () => {
    const d = ids[5]!;
    await insertSamplesReturning(cols([[d, t0 + 3 * s, 10], [d, t0 + 4 * s, Number.NaN], [d, t0 + 5 * s, 30], [ids[6]!, t0 + 4 * s, 99]]), false);
    const series = await readSeries(d, t0 + 3 * s, t0 + 6 * s, 100);
    expect(series.map((p) => p.t)).toEqual([t0 + 3 * s, t0 + 4 * s, t0 + 5 * s]);
    expect(series[0]!.v).toBe(10);
    expect(series[1]!.v).toBeNull(); // a gap: no summable value in that bucket
    expect(series[2]!.max).toBe(30);
  });

  it("hands the worker whole rows in commit order, each sample with its row's seq, about `limit` samples", async () => {
    const cursor = await sequenceHead();
    const base = t0 + 100 * s;
    // row 1: 3 samples of block 0's streams; row 2: 1 sample; row 3: 2 samples
    const r1 = await insertSamplesReturning(cols([[ids[0]!, base, 1], [ids[1]!, base, 2], [ids[2]!, base, 3]]), false);
    await insertSamplesReturning(cols([[ids[0]!, base + s, 4]]), false);
    await insertSamplesReturning(cols([[ids[0]!, base + 2 * s, 5], [ids[1]!, base + 2 * s, 6]]), false);
    const firstSeq = r1.committed!.firstSeq;
    expect(r1.committed!.rowStart.length - 1).toBeGreaterThanOrEqual(1);
    const a = await readSamplesAfter(cursor, 4);
    // the first row alone is 3 samples (ids 0-2 may straddle a block boundary: then 2 rows)
    expect(Array.from(a.values)).toEqual(a.rows === 4 ? [1, 2, 3, 4] : [1, 2, 3]);
    expect(a.seq[0]).toBe(firstSeq);
    expect(a.lastSeq).toBe(a.seq[a.rows - 1]);
    const rest = await readSamplesAfter(a.lastSeq, 100);
    expect(Array.from(rest.values)).toEqual(a.rows === 4 ? [5, 6] : [4, 5, 6]);
    expect(Array.from(rest.tsMs).at(-1)).toBe(base + 2 * s);
    // a row larger than the limit still comes whole
    const one = await readSamplesAfter(cursor, 1);
    expect(one.rows).toBeGreaterThanOrEqual(1);
    expect(new Set(one.seq).size).toBe(1);
    // upToSeq bounds the read
    expect((await readSamplesAfter(cursor, 100, firstSeq)).lastSeq).toBe(firstSeq);
  });

  it("folds block rows into the 1-minute rollup", async () => {
    while ((await rollupPending(7)) > 0) {
      /* small batches: whole rows */
    }
    const r = await pool().query<{ count: number; sum: number }>(
      "SELECT count::int, sum FROM sample_rollup_1m WHERE stream_id = $1 AND bucket = to_timestamp($2 / 1000.0)",
      [ids[0], Math.floor((t0 + 100 * s) / 60_000) * 60_000],
    );
    // base and base + 10 s share a minute; base + 20 s starts the next one
    expect(r.rows[0]).toEqual({ count: 2, sum: 1 + 4 });
  });

  it("packs rows of the one-row-per-sample layout (the migration's statement)", async () => {
    await pool().query("CREATE TABLE old_sample (stream_id int, ts timestamptz(3), value float8, seq bigint)");
    const t = t0 + 1000 * s;
    await pool().query(
      `INSERT INTO old_sample VALUES ($1, to_timestamp($3 / 1000.0), 1.5, 900001), ($2, to_timestamp($3 / 1000.0), 2.5, 900002),
                                     ($1, to_timestamp(($3 + 10000) / 1000.0), 'NaN', 900003)`,
      [ids[33], ids[35], t],
    );
    await pool().query(packSampleRowsSql("SELECT stream_id, ts, value, seq FROM old_sample", { withSeq: true, splitAt: "900001" }));
    const rows = await pool().query<{ seq: string; stream_id: number; value: number }>("SELECT seq, stream_id, value FROM sample WHERE seq > 900000 ORDER BY seq, stream_id");
    // the first two samples share (block, ts) but sit on either side of the split: two rows
    expect(rows.rows.map((r) => [Number(r.seq), r.stream_id, r.value])).toEqual([
      [900001, ids[33], 1.5],
      [900002, ids[35], 2.5],
      [900003, ids[33], Number.NaN],
    ]);
    await pool().query("DELETE FROM sample_block WHERE seq > 900000");
    await pool().query(packSampleRowsSql("SELECT stream_id, ts, value FROM old_sample"));
    const packed = await pool().query<{ n: number }>("SELECT count(*)::int AS n FROM sample_block b WHERE ts = to_timestamp($1 / 1000.0) AND block = $2 / 32", [t, ids[33]]);
    expect(packed.rows[0]!.n).toBe(1);
    expect(await sampleAt(ids[35]!, t)).toBe(2.5);
  });
});
