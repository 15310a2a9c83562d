/**
 * The storage layout of scores: one row per (block of 32 stream ids, timestamp) instead of one
 * row per (stream, timestamp).
 *
 * Why: every sample gets a score, and a second indexed row per sample cost PostgreSQL about as
 * much as the sample itself (2.4 µs of backend CPU per score row vs 0.2 µs per score in
 * blocks, `npm run bench:pg-copy`). A scrape scores all of a target's streams at one timestamp, and a target's
 * streams get consecutive ids when they first appear, so a block row is usually well filled;
 * at worst it holds one score, as before.
 *
 * A row's `data` holds 32 fixed slots of SLOT_BYTES (big-endian, as float4send/float8send
 * write them): score f32, confidence f32, expected f64, lower f64, upper f64. A band value of
 * NaN means "no band" (NULL). `mask` bit k says slot k (stream id block·32 + k) is present; a
 * present score may be NaN (scored without a verdict). Empty slots are zero bytes.
 *
 * Charts over long ranges read per-stream one-minute rows instead (score-minute-fold.ts):
 * reading one stream from blocks costs 32 slots per point.
 */
import type { BlockRows, ScoreColumns } from "./columns";

export const BLOCK_SLOTS = 32;
export const SLOT_BYTES = 32;
export const BLOCK_BYTES = BLOCK_SLOTS * SLOT_BYTES;

export const blockOf = (streamId: number) => Math.floor(streamId / BLOCK_SLOTS);
export const slotOf = (streamId: number) => streamId % BLOCK_SLOTS;
/** The mask bit of a slot as a signed int4 (bit 31 is the sign). */
export const slotBit = (slot: number) => (1 << slot) | 0;


export interface SlotValues {
  score: number;
  confidence: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
}

const band = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? Number.NaN : x);
const orNull = (x: number) => (Number.isNaN(x) ? null : x);

function writeSlot(dv: DataView, at: number, score: number, confidence: number, expected: number, lower: number, upper: number): void {
  dv.setFloat32(at, score);
  dv.setFloat32(at + 4, confidence);
  dv.setFloat64(at + 8, expected);
  dv.setFloat64(at + 16, lower);
  dv.setFloat64(at + 24, upper);
}

/** Reads one slot (SLOT_BYTES starting at `at`). */
export function readSlot(bytes: Uint8Array, at = 0): SlotValues {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + at, SLOT_BYTES);
  return {
    score: dv.getFloat32(0),
    confidence: dv.getFloat32(4),
    expected: orNull(dv.getFloat64(8)),
    lower: orNull(dv.getFloat64(16)),
    upper: orNull(dv.getFloat64(24)),
  };
}

/**
 * Growable block rows; `rowFor` finds or opens the row of (block, ts). Reusable (`reset`): a
 * batch's rows are encoded before the next batch is packed, and fresh memory is expensive to
 * touch here (page faults), so the writer keeps one.
 */
export class BlockRowBuilder {
  private rows = new Map<number, Map<number, number>>();
  block = new Int32Array(64);
  tsMs = new Float64Array(64);
  mask = new Int32Array(64);
  data = new Uint8Array(64 * BLOCK_BYTES);
  dv = new DataView(this.data.buffer);
  n = 0;
  /**
   * The last row found: a scrape's scores arrive by stream id at one timestamp, so runs of up
   * to 32 consecutive scores share a row, and the two Map probes (one keyed by a double) are
   * skipped for all but the first of them.
   */
  private lastBlock = -1;
  private lastTs = Number.NaN;
  private lastRow = -1;

  reset(): this {
    this.rows.clear();
    this.n = 0;
    this.lastRow = -1;
    this.lastTs = Number.NaN;
    return this;
  }

  rowFor(block: number, tsMs: number): number {
    if (block === this.lastBlock && tsMs === this.lastTs) return this.lastRow;
    const r = this.findRow(block, tsMs);
    this.lastBlock = block;
    this.lastTs = tsMs;
    this.lastRow = r;
    return r;
  }

  private findRow(block: number, tsMs: number): number {
    let byBlock = this.rows.get(tsMs);
    if (byBlock === undefined) this.rows.set(tsMs, (byBlock = new Map()));
    let r = byBlock.get(block);
    if (r === undefined) {
      r = this.n++;
      if (r === this.block.length) this.grow();
      byBlock.set(block, r);
      this.block[r] = block;
      this.tsMs[r] = tsMs;
      this.mask[r] = 0;
      this.data.fill(0, r * BLOCK_BYTES, (r + 1) * BLOCK_BYTES);
    }
    return r;
  }

  private grow(): void {
    const cap = this.block.length * 2;
    const block = new Int32Array(cap);
    block.set(this.block);
    const ts = new Float64Array(cap);
    ts.set(this.tsMs);
    const mask = new Int32Array(cap);
    mask.set(this.mask);
    const data = new Uint8Array(cap * BLOCK_BYTES);
    data.set(this.data);
    this.block = block;
    this.tsMs = ts;
    this.mask = mask;
    this.data = data;
    this.dv = new DataView(data.buffer);
  }

  done(): BlockRows {
    return { n: this.n, block: this.block.subarray(0, this.n), tsMs: this.tsMs.subarray(0, this.n), mask: this.mask.subarray(0, this.n), data: this.data.subarray(0, this.n * BLOCK_BYTES) };
  }
}

/** Packs score rows into block rows (views into `into`); a (stream, ts) given twice keeps the later one. */
export function packScoreBlocks(c: ScoreColumns, into = new BlockRowBuilder()): BlockRows {
  const b = into.reset();
  for (let i = 0; i < c.tsMs.length; i++) {
    const id = c.streamIds[i]!;
    const slot = slotOf(id);
    const r = b.rowFor(blockOf(id), c.tsMs[i]!);
    b.mask[r] = b.mask[r]! | slotBit(slot);
    writeSlot(b.dv, r * BLOCK_BYTES + slot * SLOT_BYTES, c.score[i]!, c.confidence[i]!, band(c.expected[i]), band(c.lower[i]), band(c.upper[i]));
  }
  return b.done();
}
