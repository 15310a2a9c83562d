/**
 * The storage layout of samples: one row per (block of 32 stream ids, timestamp) in
 * `sample_block`, instead of one row per (stream, timestamp).
 *
 * Why: the indexed row per sample was the largest single cost of ingest. PostgreSQL's backend
 * CPU for the binary COPY, 20,000 streams (`npm run bench:pg-copy`): 2.2 µs per sample as its
 * own row in the (stream_id, ts) primary key, 0.15 µs per sample in block rows. A scrape writes
 * all of a target's streams at one timestamp, and a target's streams get consecutive ids when
 * they first appear (the ingest sorts each batch by stream id), so a block row usually carries
 * many samples; at worst it carries one, as before.
 *
 * A row's `vals` is a float8[] whose element k+1 is the value of stream block·32 + k, NULL when
 * that stream has no sample at the row's timestamp (trailing NULLs are left out). Several rows
 * may share a (block, ts), each with other slots: the ingest writes a sample only into a slot
 * that no row of its (block, ts) holds yet (first write wins, like ON CONFLICT DO NOTHING).
 * Each row has its own `seq` (commit order), which is what the worker's cursor counts.
 * The view `sample` (stream_id, ts, value, seq) unpacks the rows for ad-hoc SQL.
 */
import { grownFloat64, grownInt32 } from "@/lib/collections/grow";
import type { SampleRows, SortedSamples } from "./columns";
import { BLOCK_SLOTS, blockOf, slotOf } from "./score-blocks";

export { BLOCK_SLOTS, blockOf, slotOf };



/** Slots already held in stored rows, per (block, ts): what the slow path must not write again. */
export type Occupied = (block: number, tsMs: number) => number;

/**
 * Packs `c` (sorted by stream id, so each block's samples are adjacent) into block rows. A
 * (stream, ts) given twice keeps the first; a slot whose bit is set in `occupied(block, ts)` is
 * left out (it is stored already).
 */
export function packSampleRows(c: SortedSamples, occupied?: Occupied): SampleRows {
  const n = c.streamIds.length;
  const rowOf = new Int32Array(n);
  let cap = 64;
  let block = new Int32Array(cap);
  let rowTs = new Float64Array(cap);
  let mask = new Int32Array(cap);
  let count = new Int32Array(cap);
  let rows = 0;
  let runBlock = Number.NaN;
  let lastTs = Number.NaN;
  let lastRow = -1;
  // rows of the current block by timestamp: only needed when a block run has several timestamps
  let byTs: Map<number, number> | null = null;
  for (let i = 0; i < n; i++) {
    const id = c.streamIds[i]!;
    const t = c.tsMs[i]!;
    const b = blockOf(id);
    if (b !== runBlock) {
      runBlock = b;
      lastTs = Number.NaN;
      byTs?.clear();
    }
    let r: number;
    if (t === lastTs) r = lastRow;
    else {
      if (lastTs === lastTs) {
        // a second timestamp in this block run: index the run's rows by timestamp
        byTs ??= new Map();
        if (byTs.size === 0) byTs.set(lastTs, lastRow);
      }
      const known = byTs && byTs.size ? byTs.get(t) : undefined;
      if (known !== undefined) r = known;
      else {
        if (rows === cap) {
          cap *= 2;
          block = grownInt32(block, cap);
          rowTs = grownFloat64(rowTs, cap);
          mask = grownInt32(mask, cap);
          count = grownInt32(count, cap);
        }
        r = rows++;
        block[r] = b;
        rowTs[r] = t;
        mask[r] = occupied ? occupied(b, t) : 0;
        count[r] = 0;
        if (byTs && byTs.size) byTs.set(t, r);
      }
      lastTs = t;
      lastRow = r;
    }
    const bit = 1 << slotOf(id);
    if (mask[r]! & bit) {
      rowOf[i] = -1; // stored already, or given earlier in this batch
      continue;
    }
    mask[r] = mask[r]! | bit;
    rowOf[i] = r;
    count[r]!++;
  }
  // Rows go out in time order (then block): the worker may read a commit in pieces of whole
  // rows, and a piece that ends inside a commit must not hold a later timestamp of one block
  // before an earlier one of another (those would arrive after their step was scored: late).
  // Rows left empty (everything already stored) are dropped.
  const order = timeMajorOrder(rows, block, rowTs);
  const newRow = new Int32Array(rows);
  const outBlock = new Int32Array(rows);
  const outTs = new Float64Array(rows);
  const rowStart = new Int32Array(rows + 1);
  let kept = 0;
  let total = 0;
  for (const r of order) {
    if (count[r] === 0) {
      newRow[r] = -1;
      continue;
    }
    newRow[r] = kept;
    outBlock[kept] = block[r]!;
    outTs[kept] = rowTs[r]!;
    rowStart[kept] = total;
    total += count[r]!;
    kept++;
  }
  rowStart[kept] = total;
  const at = rowStart.slice(0, kept);
  const out: SampleRows = {
    rows: kept,
    block: outBlock.subarray(0, kept),
    rowTs: outTs.subarray(0, kept),
    rowStart: rowStart.subarray(0, kept + 1),
    streamIds: new Int32Array(total),
    tsMs: new Float64Array(total),
    values: new Float64Array(total),
  };
  // stable scatter: within a row, samples keep the (stream id) order they came in
  for (let i = 0; i < n; i++) {
    const r0 = rowOf[i]!;
    if (r0 < 0) continue;
    const r = newRow[r0]!;
    const o = at[r]!++;
    out.streamIds[o] = c.streamIds[i]!;
    out.tsMs[o] = c.tsMs[i]!;
    out.values[o] = c.values[i]!;
  }
  return out;
}

/** Row indices by (timestamp, block, creation order); no sort when they are in that order already. */
function timeMajorOrder(rows: number, block: Int32Array, rowTs: Float64Array): Int32Array {
  const order = new Int32Array(rows);
  let sorted = true;
  for (let r = 0; r < rows; r++) {
    order[r] = r;
    if (r > 0 && (rowTs[r]! < rowTs[r - 1]! || (rowTs[r] === rowTs[r - 1] && block[r]! < block[r - 1]!))) sorted = false;
  }
  if (!sorted) order.sort((a, b) => rowTs[a]! - rowTs[b]! || block[a]! - block[b]! || a - b);
  return order;
}

/** The mask of the slots present in a stored `vals` array (as node-pg returns it). */
export function slotsPresent(vals: readonly (number | null)[]): number {
  let m = 0;
  for (let k = 0; k < vals.length && k < BLOCK_SLOTS; k++) if (vals[k] !== null) m |= 1 << k;
  return m;
}

/** Row r's `vals` as a PostgreSQL array literal (for the PGlite path, which cannot COPY). */
export function valsLiteral(rows: SampleRows, r: number): string {
  const from = rows.rowStart[r]!;
  const to = rows.rowStart[r + 1]!;
  const parts: string[] = [];
  for (let i = from; i < to; i++) {
    const slot = slotOf(rows.streamIds[i]!);
    while (parts.length < slot) parts.push("NULL");
    parts.push(String(rows.values[i]!));
  }
  return `{${parts.join(",")}}`;
}

/**
 * Packs rows of the one-row-per-sample layout, given as a SELECT of (stream_id, ts, value[, seq]),
 * into `sample_block`. Used by the migration that introduced blocks (and its test). With seqs,
 * a row takes the largest seq of its samples; `splitAt` (a SQL expression) keeps samples on
 * either side of that seq in separate rows.
 */
export function packSampleRowsSql(rows: string, opts: { withSeq?: boolean; splitAt?: string } = {}): string {
  const side = opts.splitAt ? `, (x.seq > ${opts.splitAt})` : "";
  return `INSERT INTO "sample_block" (${opts.withSeq ? `"seq", ` : ""}"block", "ts", "vals")
   SELECT ${opts.withSeq ? "max(x.seq), " : ""}x.stream_id / 32, x.ts,
          (SELECT array_agg(v.value ORDER BY g.slot) FROM generate_series(0, max(x.stream_id % 32)) g(slot)
             LEFT JOIN unnest(array_agg(x.stream_id % 32), array_agg(x.value)) v(slot, value) ON v.slot = g.slot)
   FROM (${rows}) x
   GROUP BY x.stream_id / 32, x.ts${side}
   ORDER BY ${opts.withSeq ? "1" : "x.ts"}`;
}

/**
 * Block rows after seq `after` (up to `upTo`), in seq order: whole rows holding at most `limit`
 * samples (at least one row). Arguments are SQL expressions (parameters or integers).
 */
export function blocksAfter(after: string, upTo: string, limit: string): string {
  return `SELECT seq, block, ts, vals FROM (
      SELECT seq, block, ts, vals, sum(n) OVER (ORDER BY seq) AS upto, row_number() OVER (ORDER BY seq) AS i
      FROM (SELECT seq, block, ts, vals, cardinality(array_remove(vals, NULL)) AS n
            FROM sample_block WHERE seq > ${after} AND seq <= ${upTo} ORDER BY seq LIMIT ${limit}) r
    ) w WHERE upto <= ${limit} OR i = 1`;
}
