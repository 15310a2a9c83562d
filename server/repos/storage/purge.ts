import type pg from "pg";
import { BLOCK_SLOTS, SLOT_BYTES, slotBit } from "./score-blocks";

/**
 * Clears one stream's samples and scores from the block rows it shares with 31 other ids (its
 * slot in every row of its block; rows left empty are dropped) and deletes its one-minute rollup
 * rows (their five-minute tier follows by trigger), in the caller's transaction. Returns the
 * block rows it changed.
 */
export async function purgeStreamData(c: pg.PoolClient, id: number): Promise<{ samples: number; scores: number }> {
  const block = Math.floor(id / BLOCK_SLOTS);
  const slot = id % BLOCK_SLOTS;
  const samples = await c.query(`UPDATE sample_block SET vals[$2] = NULL WHERE block = $1 AND vals[$2] IS NOT NULL`, [block, slot + 1]);
  await c.query(`DELETE FROM sample_block WHERE block = $1 AND NOT EXISTS (SELECT 1 FROM unnest(vals) v WHERE v IS NOT NULL)`, [block]);
  const bit = slotBit(slot);
  const scores = await c.query(
    `UPDATE score_block SET mask = mask & ~$2::int, data = overlay(data PLACING decode(repeat('00', $4), 'hex') FROM $3 FOR $4)
     WHERE block = $1 AND mask & $2::int <> 0`,
    [block, bit, slot * SLOT_BYTES + 1, SLOT_BYTES],
  );
  await c.query(`DELETE FROM score_block WHERE block = $1 AND mask = 0`, [block]);
  await c.query(`DELETE FROM sample_rollup_1m WHERE stream_id = $1`, [id]);
  await c.query(`DELETE FROM score_rollup_1m WHERE stream_id = $1`, [id]);
  return { samples: samples.rowCount ?? 0, scores: scores.rowCount ?? 0 };
}
