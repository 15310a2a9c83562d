import type pg from "pg";
import { pool } from "../../db";

/**
 * Day partitions of the time-partitioned tables (sample_block, score_block and both rollup
 * tiers; migration 20261211100000_time_partitions). A day's partitions of all six tables are
 * made together by the SQL function `omen_time_partitions`, so whatever a write of samples made
 * is there for the scores and rollups the worker derives from them.
 *
 * One day (UTC) per partition: retention is set in days and the hourly retention job then drops
 * one day's tables at a time; a day of live data is one small set of indexes to write, while a
 * history import of a year is 365 tables per parent (each table costs the planner a little on
 * reads that are not bounded by time, like the worker's "after seq X": a probe per partition).
 */

export const DAY_MS = 86_400_000;

/** Epoch days (UTC) whose partitions this process has made or seen made. */
const known = new Set<number>();

/**
 * Days more than this far behind the clock are history: they go into one partition per month
 * (migration 20261212100000), so a write spanning years makes a table per month, not per day.
 */
export const RECENT_DAYS = 62;
let clock: () => number = Date.now;

/** The clock that tells recent days from history (tests whose data is fixed in time pin it). */
export function setPartitionClock(now: (() => number) | null): void {
  clock = now ?? Date.now;
}

export function dayOf(tsMs: number): number {
  return Math.floor(tsMs / DAY_MS);
}

function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Makes the partitions of `days` that no partition covers yet: its own for a recent day, its
 * month's for history (one statement; safe when processes race).
 */
export async function makeDays(days: Iterable<number>, q: Pick<pg.Pool, "query"> = pool()): Promise<void> {
  const list = [...new Set(days)].sort((a, b) => a - b);
  if (list.length === 0) return;
  await q.query("SELECT omen_time_partitions($1::date[], $2::date)", [list.map(isoDay), isoDay(dayOf(clock()) - RECENT_DAYS)]);
  for (const d of list) known.add(d);
}

/**
 * Makes sure every day among `tsMs` has its partitions before a write lands there. Days this
 * process knows of cost no round-trip (the steady state); new ones, one. Call it outside any
 * transaction: the partitions must be committed before the write's transaction needs them.
 */
export async function ensureDaysOf(tsMs: ArrayLike<number>): Promise<void> {
  let missing: Set<number> | null = null;
  let last = NaN;
  for (let i = 0; i < tsMs.length; i++) {
    const t = tsMs[i]!;
    if (!Number.isFinite(t)) continue;
    const d = dayOf(t);
    if (d === last) continue;
    last = d;
    if (!known.has(d)) (missing ??= new Set()).add(d);
  }
  if (missing) await makeDays(missing);
}

export function forgetAllDays(): void {
  known.clear();
}

/** The day's partitions are gone (dropped by retention, here or in another process). */
export function forgetDays(days: Iterable<number>): void {
  for (const d of days) known.delete(d);
}

/**
 * The day a write found no partition for, from PostgreSQL's error ("no partition of relation
 * … found for row", detail "Partition key of the failing row contains (ts) = (2014-06-01
 * 00:00:00+00)."), or null for any other error. The cache said the day existed, but retention
 * dropped it since (in another process), or a writer did not ensure its days first.
 */
export function missingPartitionDay(e: unknown): number | null {
  const err = e as { code?: string; message?: string; detail?: string } | null;
  if (err?.code !== "23514" || !err.message?.startsWith("no partition of relation")) return null;
  const m = /\) = \((\d{4}-\d\d-\d\d[ T][\d:.]+)([+-]\d\d(?::?\d\d)?)?\)/.exec(err.detail ?? "");
  if (!m) return null;
  const offset = m[2] ? (m[2].length === 3 ? `${m[2]}:00` : m[2]) : "Z";
  const t = Date.parse(`${m[1]!.replace(" ", "T")}${offset}`);
  return Number.isFinite(t) ? dayOf(t) : null;
}

/** An attached partition of one of the time-partitioned tables: a day's, or a month's of history. */
export interface DayPartition {
  table: string;
  parent: string;
  /** its first day (epoch days, UTC) */
  day: number;
  /** the day after its last */
  endDay: number;
}

export const TIME_PARTITIONED = ["sample_block", "score_block", "sample_rollup_1m", "score_rollup_1m", "sample_rollup_5m", "score_rollup_5m"] as const;

/** The day partitions as the catalog has them (pg_inherits), oldest first. */
export async function listDayPartitions(q: Pick<pg.Pool, "query"> = pool()): Promise<DayPartition[]> {
  const res = await q.query<{ table: string; parent: string }>(
    `SELECT c.relname AS table, p.relname AS parent FROM pg_inherits i
     JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
     WHERE i.inhparent IN (SELECT to_regclass(x) FROM unnest($1::text[]) x)`,
    [TIME_PARTITIONED],
  );
  const out: DayPartition[] = [];
  for (const r of res.rows) {
    const d = /_p(\d{4})(\d\d)(\d\d)$/.exec(r.table);
    const m = /_p(\d{4})(\d\d)$/.exec(r.table);
    if (d) {
      const day = dayOf(Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3])));
      out.push({ table: r.table, parent: r.parent, day, endDay: day + 1 });
    } else if (m) {
      out.push({ table: r.table, parent: r.parent, day: dayOf(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)), endDay: dayOf(Date.UTC(Number(m[1]), Number(m[2]), 1)) });
    }
  }
  return out.sort((a, b) => a.day - b.day || a.table.localeCompare(b.table));
}
