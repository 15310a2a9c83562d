/**
 * What Omen accepts as a sample's time and value, shared by every ingest path, the rollups and
 * the detection engine's input.
 *
 * Times: a sample more than `MAX_FUTURE_MS` ahead of the receiver's clock, or before 1970, is
 * refused on its own (Prometheus' "out of bounds"): the other samples of the same request are
 * stored. A future sample would move the detection clock ahead of every other stream; before
 * 1970 is always a sender bug (an unset or mis-scaled timestamp).
 *
 * Values: every double is stored as sent, NaN and ±Inf included (Prometheus summaries without
 * observations send NaN; OTLP can carry ±Inf). Aggregates add only *summable* values, finite
 * with |v| ≤ 2^960: a (stream, minute) holds at most 60,000 samples (millisecond timestamps,
 * one sample per stream and timestamp) and any sum of fewer than 2^63 such values stays below
 * the largest double, so no rollup or chart sum can overflow.
 */

export const MAX_FUTURE_MS = 10 * 60_000;

/** Largest magnitude a rollup sum or mean takes in (2^960 ≈ 9.7e288). */
export const SUMMABLE_MAX = 2 ** 960;

/** Finite and |v| ≤ SUMMABLE_MAX (false for NaN and ±Inf). */
export function isSummable(v: number): boolean {
  return v >= -SUMMABLE_MAX && v <= SUMMABLE_MAX;
}

/** The same rule as SQL on a float8 expression (NaN compares greater than everything there). */
export function summableSql(expr: string): string {
  // String() is the shortest text that reads back as exactly 2^960
  return `(${expr} BETWEEN '-${String(SUMMABLE_MAX)}'::float8 AND '${String(SUMMABLE_MAX)}'::float8)`;
}

export type TimeRefusal = "future" | "before-1970" | "not-a-time";

/** Why a sample time (epoch ms) is refused at `nowMs`, or null when it is accepted. */
export function timeRefusal(tMs: number, nowMs: number): TimeRefusal | null {
  if (tMs !== tMs || tMs === Infinity || tMs === -Infinity) return "not-a-time";
  if (tMs < 0) return "before-1970";
  if (tMs > nowMs + MAX_FUTURE_MS) return "future";
  return null;
}

/** ISO-8601 when the time is representable, else the raw number (never throws, unlike `toISOString`). */
export function formatSampleTime(tMs: number): string {
  return Math.abs(tMs) <= 8.64e15 ? new Date(tMs).toISOString() : `${tMs} ms since 1970`;
}

export function describeTimeRefusal(reason: TimeRefusal, tMs: number): string {
  if (reason === "future") return `timestamp ${formatSampleTime(tMs)} is more than 10 minutes in the future (check the sender's clock)`;
  if (reason === "before-1970") return `timestamp ${formatSampleTime(tMs)} is before 1970`;
  return `timestamp ${tMs} is not a time`;
}
