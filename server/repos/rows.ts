import type pg from "pg";
import { z } from "zod";

/**
 * Raw-SQL rows checked by a zod schema: the columns a query returns are stated once, next to its
 * SQL, and a row that does not match fails at the query instead of travelling on as a wrongly
 * typed value. For the queries Prisma Client cannot express (set-based updates, row locks,
 * window functions); simple reads and writes use Prisma Client (`db()`).
 */
export async function queryRows<S extends z.ZodType>(client: Pick<pg.Pool | pg.PoolClient, "query">, row: S, sql: string, params: unknown[] = []): Promise<z.output<S>[]> {
  const res = await client.query(sql, params);
  return z.array(row).parse(res.rows);
}

/** The first row of `queryRows`, or null. */
export async function queryRow<S extends z.ZodType>(client: Pick<pg.Pool | pg.PoolClient, "query">, row: S, sql: string, params: unknown[] = []): Promise<z.output<S> | null> {
  return (await queryRows(client, row, sql, params))[0] ?? null;
}

/** A JSON object column (labels, headers, settings, config): what Prisma's Json fields take and give. */
export const ZJsonObject = z.record(z.string(), z.json());

/** A JSON object of strings (labels, HTTP headers). */
export const ZStringMap = z.record(z.string(), z.string());

/** A timestamp as epoch ms computed in SQL (`(extract(epoch FROM col) * 1000)::float8`). */
export const ZMs = z.number();

/**
 * A stored size in bytes (a BIGINT column: detector snapshots) as a JS number. Exact up to
 * Number.MAX_SAFE_INTEGER; past it the row is refused with this error instead of travelling on
 * rounded (pg's int8 parser in db.ts gives a number, which is rounded from 2^53 on). Takes the
 * number, the int8 text or a bigint.
 */
export function byteCount(value: unknown, column: string): number {
  const exact = typeof value === "bigint" ? value : typeof value === "string" && /^-?\d+$/.test(value) ? BigInt(value) : null;
  const n = exact === null ? value : Number(exact);
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw new Error(`${column}: ${String(value)} is not a size in bytes.`);
  if (!Number.isSafeInteger(n) || (exact !== null && exact > BigInt(Number.MAX_SAFE_INTEGER))) {
    throw new Error(`${column}: ${String(value)} bytes is past Number.MAX_SAFE_INTEGER (${Number.MAX_SAFE_INTEGER}), which a JS number holds exactly; refusing it rather than reading it rounded.`);
  }
  return n;
}

/** `byteCount` as a zod row field. */
export const ZByteCount = (column: string) => z.unknown().transform((v) => byteCount(v, column));
