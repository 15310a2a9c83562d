import { describe, expect, it } from "vitest";
import type { NewSampleColumns, RollupColumns, RollupRow } from "../../repos/storage/columns";
import { RollupBuffer } from "./rollup-buffer";

const MIN = 60_000;
function cols(rows: [seq: number, stream: number, tMs: number, v: number][]): NewSampleColumns {
  return {
    rows: rows.length,
    lastSeq: rows.length ? rows[rows.length - 1]![0] : 0,
    seq: Float64Array.from(rows.map((r) => r[0])),
    streamIds: Int32Array.from(rows.map((r) => r[1])),
    tsMs: Float64Array.from(rows.map((r) => r[2])),
    values: Float64Array.from(rows.map((r) => r[3])),
  };
}

function rowsOf(c: RollupColumns): RollupRow[] {
  return Array.from({ length: c.rows }, (_, k) => ({ streamId: c.streamIds[k]!, bucketMs: c.bucketMs[k]!, min: c.min[k]!, max: c.max[k]!, sum: c.sum[k]!, count: c.count[k]! }));
}

describe("RollupBuffer", () => {
  it("hands out a minute once the stream has moved on, with a watermark below every open minute", () => {
    const b = new RollupBuffer(0);
    b.add(cols([[1, 7, 0, 5], [2, 8, 0, 1], [3, 7, 10_000, 3], [4, 7, MIN, 9]]));
    const f = b.flush();
    expect(rowsOf(f.rows)).toEqual([{ streamId: 7, bucketMs: 0, min: 3, max: 5, sum: 8, count: 2 }]);
    // stream 8's minute 0 (seq 2) is still open: only seq 1 is safely folded
    expect(f.watermark).toBe(1);
    b.commit(f.watermark);
    b.add(cols([[5, 8, MIN, 2]]));
    const g = b.flush();
    expect(rowsOf(g.rows)).toEqual([{ streamId: 8, bucketMs: 0, min: 1, max: 1, sum: 1, count: 1 }]);
    expect(g.watermark).toBe(3); // stream 7's open minute starts at seq 4
  });

  it("closes minutes the data has left behind, keeps late samples as their own rows, and flushes all at shutdown", () => {
    const b = new RollupBuffer(0);
    b.add(cols([[1, 1, 0, 1], [2, 2, 0, 4], [3, 2, 4 * MIN, 6], [4, 2, 30_000, 2]]));
    const f = b.flush();
    // stream 1 went quiet and the data is 4 minutes on: its minute is closed; the late sample of stream 2 is a row
    expect(rowsOf(f.rows)).toContainEqual({ streamId: 1, bucketMs: 0, min: 1, max: 1, sum: 1, count: 1 });
    expect(rowsOf(f.rows)).toContainEqual({ streamId: 2, bucketMs: 0, min: 4, max: 4, sum: 4, count: 1 });
    expect(rowsOf(f.rows)).toContainEqual({ streamId: 2, bucketMs: 0, min: 2, max: 2, sum: 2, count: 1 });
    expect(f.watermark).toBe(2);
    const all = b.flushAll();
    expect(rowsOf(all.rows)).toEqual([{ streamId: 2, bucketMs: 4 * MIN, min: 6, max: 6, sum: 6, count: 1 }]);
    expect(all.watermark).toBe(4);
  });

  it("skips samples at or below the watermark it starts from (already folded before a restart)", () => {
    const b = new RollupBuffer(10);
    b.add(cols([[9, 1, 0, 100], [10, 1, 0, 100], [11, 1, 0, 1]]));
    expect(rowsOf(b.flushAll().rows)).toEqual([{ streamId: 1, bucketMs: 0, min: 1, max: 1, sum: 1, count: 1 }]);
  });

  it("gives rows back after a failed write", () => {
    const b = new RollupBuffer(0);
    b.add(cols([[1, 1, 0, 1], [2, 1, MIN, 2]]));
    const f = b.flush();
    b.requeue(f.rows);
    expect(rowsOf(b.flush().rows)).toEqual(rowsOf(f.rows));
  });
});
