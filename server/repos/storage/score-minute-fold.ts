/**
 * Folds scores into one-minute rows per stream (`score_rollup_1m`), which charts over long
 * ranges read with an index-only scan of one stream, like the value rollup. Score blocks
 * (score-blocks.ts) are cheap to write but hold 32 streams per row, so a 7-day chart read from
 * them touched 32x the data it drew (measured: 7-day page p95 135 ms from one-minute blocks).
 *
 * A stream's minute is emitted when a score of another minute arrives for it, or after two
 * idle minutes (wall time). A minute can still be written twice (after a restart), so the row
 * keeps its score count `n` and the writer merges: max score, min lower, max upper, means
 * weighted by n.
 *
 * The accumulators live in typed arrays indexed by a dense slot per stream: this runs for every
 * score, and a Map of objects per stream measured 11 % of the worker's CPU.
 */
import { DenseIds } from "@/lib/collections/dense-ids";
import { grownFloat64, grownInt32 } from "@/lib/collections/grow";
import type { ScoreColumns, ScoreMinuteRows } from "./columns";

const MINUTE_MS = 60_000;
/** A minute that got no score for this long (wall time) is written as it is. */
const IDLE_FLUSH_MS = 120_000;
/** How often the idle check walks every open minute. */
const IDLE_SCAN_MS = 10_000;


const band = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? Number.NaN : x);
const finite = (x: number) => (Number.isFinite(x) ? x : Number.NaN);

export class ScoreMinuteFold {
  private slots = new DenseIds();
  /** stream id per slot */
  private idOf = new Float64Array(0);
  /** minute of the open accumulator per slot */
  private minute = new Float64Array(0);
  private touched = new Float64Array(0);
  private maxScore = new Float64Array(0);
  private sumConf = new Float64Array(0);
  private n = new Int32Array(0);
  private sumExp = new Float64Array(0);
  private nExp = new Int32Array(0);
  private minLower = new Float64Array(0);
  private maxUpper = new Float64Array(0);
  /** slots with an open minute (unordered; `openAt` is each one's position + 1) */
  private openIds: number[] = [];
  private openAt = new Int32Array(0);
  private lastIdleScanMs = -Infinity;

  /** Adds scores; returns the minutes they complete (and idle ones). */
  add(c: ScoreColumns, nowMs: number): ScoreMinuteRows {
    const out = emptyRows();
    const rows = c.tsMs.length;
    // the columns and accumulators in locals, and `band` written out: this runs for every score,
    // and as method calls each double crossing a call boundary was a heap allocation
    const { streamIds, tsMs, score, confidence, expected, lower, upper } = c;
    for (let i = 0; i < rows; i++) {
      const id = streamIds[i]!;
      const slot = this.slots.slotOf(id);
      if (slot >= this.minute.length) this.grow(slot + 1);
      const minute = this.minute;
      this.idOf[slot] = id;
      const minuteMs = Math.floor(tsMs[i]! / MINUTE_MS) * MINUTE_MS;
      const open = this.openAt[slot]! > 0;
      if (open && minute[slot] !== minuteMs) this.emit(out, slot);
      if (!open || minute[slot] !== minuteMs) this.start(slot, minuteMs);
      this.touched[slot] = nowMs;
      const s = score[i]!;
      const maxScore = this.maxScore;
      if (s === s && !(s <= maxScore[slot]!)) maxScore[slot] = s;
      this.sumConf[slot]! += confidence[i]!;
      this.n[slot]!++;
      let e = expected[i];
      if (e === null || e === undefined || !Number.isFinite(e)) e = Number.NaN;
      if (e === e) {
        this.sumExp[slot]! += e;
        this.nExp[slot]!++;
      }
      let lo = lower[i];
      if (lo === null || lo === undefined || !Number.isFinite(lo)) lo = Number.NaN;
      if (lo < this.minLower[slot]!) this.minLower[slot] = lo;
      let up = upper[i];
      if (up === null || up === undefined || !Number.isFinite(up)) up = Number.NaN;
      if (up > this.maxUpper[slot]!) this.maxUpper[slot] = up;
    }
    if (nowMs - this.lastIdleScanMs >= IDLE_SCAN_MS) {
      this.lastIdleScanMs = nowMs;
      for (const slot of [...this.openIds]) if (nowMs - this.touched[slot]! >= IDLE_FLUSH_MS) this.close(out, slot);
    }
    return out;
  }

  /** Every minute in progress (at shutdown). */
  /** Every minute of one batch of scores, complete or not (a scale-out run, merged into the stored minutes). */
  static minutesOf(c: ScoreColumns, nowMs: number): ScoreMinuteRows {
    const f = new ScoreMinuteFold();
    const out = f.add(c, nowMs);
    for (const slot of [...f.openIds]) f.close(out, slot);
    return out;
  }

  flushAll(): ScoreMinuteRows {
    const out = emptyRows();
    for (const slot of [...this.openIds]) this.close(out, slot);
    return out;
  }

  private start(slot: number, minuteMs: number): void {
    if (this.openAt[slot] === 0) {
      this.openIds.push(slot);
      this.openAt[slot] = this.openIds.length;
    }
    this.minute[slot] = minuteMs;
    this.maxScore[slot] = Number.NaN;
    this.sumConf[slot] = 0;
    this.n[slot] = 0;
    this.sumExp[slot] = 0;
    this.nExp[slot] = 0;
    this.minLower[slot] = Infinity;
    this.maxUpper[slot] = -Infinity;
  }

  /** Emits stream slot's minute and forgets it (swap-removes it from the open list). */
  private close(out: ScoreMinuteRows, slot: number): void {
    this.emit(out, slot);
    const at = this.openAt[slot]! - 1;
    const last = this.openIds.pop()!;
    if (last !== slot) {
      this.openIds[at] = last;
      this.openAt[last] = at + 1;
    }
    this.openAt[slot] = 0;
  }

  private emit(out: ScoreMinuteRows, slot: number): void {
    const n = this.n[slot]!;
    out.streamIds.push(this.idOf[slot]!);
    out.bucketMs.push(this.minute[slot]!);
    out.score.push(this.maxScore[slot]!);
    out.confidence.push(this.sumConf[slot]! / n);
    out.expected.push(this.nExp[slot]! ? this.sumExp[slot]! / this.nExp[slot]! : Number.NaN);
    out.lower.push(finite(this.minLower[slot]!));
    out.upper.push(finite(this.maxUpper[slot]!));
    out.n.push(n);
  }

  private grow(min: number): void {
    let cap = Math.max(1024, this.minute.length);
    while (cap < min) cap *= 2;
    const f64 = (a: Float64Array) => grownFloat64(a, cap);
    const i32 = (a: Int32Array) => grownInt32(a, cap);
    this.idOf = f64(this.idOf);
    this.minute = f64(this.minute);
    this.touched = f64(this.touched);
    this.maxScore = f64(this.maxScore);
    this.sumConf = f64(this.sumConf);
    this.n = i32(this.n);
    this.sumExp = f64(this.sumExp);
    this.nExp = i32(this.nExp);
    this.minLower = f64(this.minLower);
    this.maxUpper = f64(this.maxUpper);
    this.openAt = i32(this.openAt);
  }
}

function emptyRows(): ScoreMinuteRows {
  return { streamIds: [], bucketMs: [], score: [], confidence: [], expected: [], lower: [], upper: [], n: [] };
}
