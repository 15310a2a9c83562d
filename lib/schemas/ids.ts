import { z } from "zod";

/**
 * Bounds for numbers that reach SQL as ids, offsets or times, so that a caller's 2^53 or 1e20
 * is a 400 naming the field rather than a raw database error ("value out of range for type
 * integer", "timestamp out of range").
 */

/** Row ids are PostgreSQL `integer` (serial): 1 … 2^31 − 1. */
export const ZId = z.number().int().min(1).max(2_147_483_647);

/** Counts and offsets that end up as SQL integers. */
export const ZCount = z.number().int().min(0).max(2_147_483_647);

/** Epoch milliseconds within what JavaScript dates and PostgreSQL timestamps both represent. */
export const ZEpochMs = z.number().min(-8.64e15).max(8.64e15);
