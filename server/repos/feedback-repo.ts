import { z } from "zod";
import { ZAnomalyLabel, type TAnomalyLabel } from "@/lib/schemas/stream";
import { pool } from "../db";
import { queryRows, ZMs } from "./rows";

export interface PendingFeedback {
  id: number;
  anomalyId: string;
  label: TAnomalyLabel;
  streamIds: number[];
  startMs: number;
  endMs: number;
}

export async function addFeedback(anomalyId: string, label: TAnomalyLabel | null, comment: string | null, author: string): Promise<number> {
  const res = await pool().query<{ id: number }>(
    `INSERT INTO feedback (anomaly_id, label, comment, author) VALUES ($1, $2::"AnomalyLabel", $3, $4) RETURNING id`,
    [anomalyId, label, comment, author],
  );
  return res.rows[0]!.id;
}

/** An anomaly's streams: `stream_ids` when it spans several, else its one stream. */
const streamsOf = (r: { stream_ids: number[]; stream_id: number }) => (r.stream_ids.length ? r.stream_ids : [r.stream_id]);

const ZPending = z
  .object({ id: z.number(), anomaly_id: z.string(), label: ZAnomalyLabel, stream_ids: z.array(z.number()), stream_id: z.number(), start_ms: ZMs, end_ms: ZMs })
  .transform((r): PendingFeedback => ({ id: r.id, anomalyId: r.anomaly_id, label: r.label, streamIds: streamsOf(r), startMs: r.start_ms, endMs: r.end_ms }));

/** Labels the worker has not yet taught the detectors. */
export async function pendingFeedback(limit = 100): Promise<PendingFeedback[]> {
  return queryRows(
    pool(),
    ZPending,
    `SELECT f.id, f.anomaly_id, f.label::text AS label, a.stream_ids, a.stream_id,
            (extract(epoch FROM a.start_at) * 1000)::float8 AS start_ms,
            (extract(epoch FROM COALESCE(a.end_at, now())) * 1000)::float8 AS end_ms
     FROM feedback f JOIN anomaly a ON a.id = f.anomaly_id
     WHERE f.applied_at IS NULL AND f.label IS NOT NULL ORDER BY f.id LIMIT $1`,
    [limit],
  );
}

/**
 * Labels after feedback id `afterId`, applied or not (scale-out: each partition folds every
 * label into its own detectors once, tracking the newest it holds).
 */
export async function labelledFeedbackAfter(afterId: number, limit = 100): Promise<PendingFeedback[]> {
  return queryRows(
    pool(),
    ZPending,
    `SELECT f.id, f.anomaly_id, f.label::text AS label, a.stream_ids, a.stream_id,
            (extract(epoch FROM a.start_at) * 1000)::float8 AS start_ms,
            (extract(epoch FROM COALESCE(a.end_at, now())) * 1000)::float8 AS end_ms
     FROM feedback f JOIN anomaly a ON a.id = f.anomaly_id
     WHERE f.id > $1 AND f.label IS NOT NULL ORDER BY f.id LIMIT $2`,
    [afterId, limit],
  );
}

/** The newest feedback id (0: none). */
export async function newestFeedbackId(): Promise<number> {
  const res = await pool().query<{ id: number | null }>("SELECT max(id) AS id FROM feedback");
  return Number(res.rows[0]?.id ?? 0);
}

/** Marks labels up to `upToId` applied (scale-out: once every partition holds them). */
export async function markFeedbackAppliedUpTo(upToId: number): Promise<number> {
  const res = await pool().query("UPDATE feedback SET applied_at = now() WHERE applied_at IS NULL AND label IS NOT NULL AND id <= $1", [upToId]);
  return res.rowCount ?? 0;
}

/** Marks labels as taught; `dataMs[i]` is the stream's data time (engine clock) when label `ids[i]` was. */
export async function markFeedbackApplied(ids: number[], dataMs: (number | null)[] = []): Promise<void> {
  if (ids.length === 0) return;
  await pool().query(
    `UPDATE feedback f SET applied_at = now(), applied_data_at = CASE WHEN x.d IS NULL THEN NULL ELSE to_timestamp(x.d / 1000.0) END
     FROM unnest($1::int[], $2::float8[]) AS x(id, d) WHERE f.id = x.id`,
    [ids, ids.map((_, i) => dataMs[i] ?? null)],
  );
}

export interface StreamFeedback {
  streamIds: number[];
  label: TAnomalyLabel;
  startMs: number;
  endMs: number | null;
  /** the data time the worker taught it at (null: not taught yet, or taught before this was recorded) */
  appliedDataMs: number | null;
}

/** Every label given to anomalies of these streams, in the order the worker teaches them. */
export async function feedbackForStreams(streamIds: number[]): Promise<StreamFeedback[]> {
  if (streamIds.length === 0) return [];
  const rows = await queryRows(
    pool(),
    z.object({ label: ZAnomalyLabel, stream_ids: z.array(z.number()), stream_id: z.number(), start_ms: ZMs, end_ms: ZMs.nullable(), data_ms: ZMs.nullable() }),
    `SELECT f.label::text AS label, a.stream_ids, a.stream_id,
            (extract(epoch FROM a.start_at) * 1000)::float8 AS start_ms,
            (extract(epoch FROM a.end_at) * 1000)::float8 AS end_ms,
            (extract(epoch FROM f.applied_data_at) * 1000)::float8 AS data_ms
     FROM feedback f JOIN anomaly a ON a.id = f.anomaly_id
     WHERE f.label IS NOT NULL AND (a.stream_id = ANY($1::int[]) OR a.stream_ids && $1::int[]) ORDER BY f.id`,
    [streamIds],
  );
  return rows.map((r) => ({ streamIds: streamsOf(r), label: r.label, startMs: r.start_ms, endMs: r.end_ms, appliedDataMs: r.data_ms }));
}

export async function listFeedback(anomalyId: string) {
  const rows = await queryRows(
    pool(),
    z.object({ id: z.number(), label: ZAnomalyLabel.nullable(), comment: z.string().nullable(), author: z.string(), created_ms: ZMs, applied: z.boolean() }),
    `SELECT id, label::text AS label, comment, author, (extract(epoch FROM created_at) * 1000)::float8 AS created_ms,
            applied_at IS NOT NULL AS applied
     FROM feedback WHERE anomaly_id = $1 ORDER BY id`,
    [anomalyId],
  );
  return rows.map((r) => ({ id: r.id, label: r.label, comment: r.comment, author: r.author, createdAtMs: r.created_ms, applied: r.applied }));
}
