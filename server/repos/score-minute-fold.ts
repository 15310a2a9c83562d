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
 */
import type { ScoreColumns } from "./scores-repo";

const MINUTE_MS = 60_000;
/** A minute that got no score for this long (wall time) is written as it is. */
const IDLE_FLUSH_MS = 120_000;

/** One-minute score rows, column-wise; NaN = no value (no band, or no non-NaN score). */
export interface ScoreMinuteRows {
  streamIds: number[];
  bucketMs: number[];
  score: number[];
  confidence: number[];
  expected: number[];
  lower: number[];
  upper: number[];
  n: number[];
}

interface Acc {
  minuteMs: number;
  touchedMs: number;
  maxScore: number;
  sumConf: number;
  n: number;
  sumExp: number;
  nExp: number;
  minLower: number;
  maxUpper: number;
}

const band = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? Number.NaN : x);
const finite = (x: number) => (Number.isFinite(x) ? x : Number.NaN);

export class ScoreMinuteFold {
  private open = new Map<number, Acc>();

  /** Adds scores; returns the minutes they complete (and idle ones). */
  add(c: ScoreColumns, nowMs: number): ScoreMinuteRows {
    const out = emptyRows();
    for (let i = 0; i < c.tsMs.length; i++) {
      const id = c.streamIds[i]!;
      const minuteMs = Math.floor(c.tsMs[i]! / MINUTE_MS) * MINUTE_MS;
      let a = this.open.get(id);
      if (a !== undefined && a.minuteMs !== minuteMs) {
        emit(out, id, a);
        a = undefined;
      }
      if (a === undefined) {
        a = { minuteMs, touchedMs: nowMs, maxScore: Number.NaN, sumConf: 0, n: 0, sumExp: 0, nExp: 0, minLower: Infinity, maxUpper: -Infinity };
        this.open.set(id, a);
      }
      a.touchedMs = nowMs;
      const s = c.score[i]!;
      if (!Number.isNaN(s) && !(s <= a.maxScore)) a.maxScore = s;
      a.sumConf += c.confidence[i]!;
      a.n++;
      const e = band(c.expected[i]);
      if (!Number.isNaN(e)) {
        a.sumExp += e;
        a.nExp++;
      }
      const lo = band(c.lower[i]);
      if (lo < a.minLower) a.minLower = lo;
      const up = band(c.upper[i]);
      if (up > a.maxUpper) a.maxUpper = up;
    }
    for (const [id, a] of this.open) {
      if (nowMs - a.touchedMs < IDLE_FLUSH_MS) continue;
      emit(out, id, a);
      this.open.delete(id);
    }
    return out;
  }

  /** Every minute in progress (at shutdown). */
  flushAll(): ScoreMinuteRows {
    const out = emptyRows();
    for (const [id, a] of this.open) emit(out, id, a);
    this.open.clear();
    return out;
  }
}

function emptyRows(): ScoreMinuteRows {
  return { streamIds: [], bucketMs: [], score: [], confidence: [], expected: [], lower: [], upper: [], n: [] };
}

function emit(out: ScoreMinuteRows, id: number, a: Acc): void {
  out.streamIds.push(id);
  out.bucketMs.push(a.minuteMs);
  out.score.push(a.maxScore);
  out.confidence.push(a.sumConf / a.n);
  out.expected.push(a.nExp ? a.sumExp / a.nExp : Number.NaN);
  out.lower.push(finite(a.minLower));
  out.upper.push(finite(a.maxUpper));
  out.n.push(a.n);
}
