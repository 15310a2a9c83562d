/**
 * Deleting and archiving streams and sources.
 *
 * Samples and scores live in block rows shared by 32 consecutive stream ids
 * (storage/sample-blocks.ts, storage/score-blocks.ts), with no foreign key to the stream: deleting a stream
 * clears its slot in every row of its block (and drops rows left empty), deletes its one-minute
 * rollups, then the stream row, whose foreign keys cascade to its anomalies, their labels and
 * alert history, health, prediction and ground-truth ranges.
 */
import type pg from "pg";
import { purgeStreamData } from "./storage/purge";
import { inTransaction } from "./transaction";

export interface PurgeCounts {
  streams: number;
  samples: number;
  scores: number;
  anomalies: number;
}

async function purgeOne(c: pg.PoolClient, id: number): Promise<Omit<PurgeCounts, "streams" | "anomalies">> {
  const stored = await purgeStreamData(c, id);
  await c.query(`DELETE FROM detector_config WHERE scope = 'stream' AND scope_ref = $1`, [String(id)]);
  return stored;
}

/** Deletes streams with everything stored for them; `sourceId` set: the source row too. */
export async function purgeStreams(ids: number[], sourceId?: number): Promise<PurgeCounts> {
  return inTransaction(async (c) => {
    const out: PurgeCounts = { streams: 0, samples: 0, scores: 0, anomalies: 0 };
    const a = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM anomaly WHERE stream_id = ANY($1::int[])`, [ids]);
    out.anomalies = a.rows[0]?.n ?? 0;
    for (const id of ids) {
      const r = await purgeOne(c, id);
      out.samples += r.samples;
      out.scores += r.scores;
    }
    const del = await c.query(`DELETE FROM stream WHERE id = ANY($1::int[])`, [ids]);
    out.streams = del.rowCount ?? 0;
    if (sourceId !== undefined) {
      await c.query(`DELETE FROM source WHERE id = $1`, [sourceId]);
      await c.query(`DELETE FROM detector_config WHERE scope = 'source' AND scope_ref = $1`, [String(sourceId)]);
    }
    return out;
  });
}

export async function streamIdsOfSource(sourceId: number): Promise<number[]> {
  return inTransaction(async (c) => (await c.query<{ id: number }>(`SELECT id FROM stream WHERE source_id = $1 ORDER BY id`, [sourceId])).rows.map((r) => r.id));
}

/** Archives (or restores) a stream; false when it does not exist. */
export async function setStreamArchived(id: number, archived: boolean): Promise<boolean> {
  return inTransaction(async (c) => {
    const r = await c.query(`UPDATE stream SET archived_at = CASE WHEN $2 THEN COALESCE(archived_at, now()) ELSE NULL END WHERE id = $1`, [id, archived]);
    return (r.rowCount ?? 0) > 0;
  });
}

/** Archives (or restores) a source and with it all its streams; false when it does not exist. */
export async function setSourceArchived(id: number, archived: boolean): Promise<boolean> {
  return inTransaction(async (c) => {
    const r = await c.query(`UPDATE source SET archived_at = CASE WHEN $2 THEN COALESCE(archived_at, now()) ELSE NULL END, updated_at = now() WHERE id = $1`, [id, archived]);
    return (r.rowCount ?? 0) > 0;
  });
}
