import type { TAnomalyLabel } from "@/lib/schemas/stream";
import { pool } from "../db";

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

/** Labels the worker has not yet taught the detectors. */
export async function pendingFeedback(limit = 100): Promise<PendingFeedback[]> {
  const res = await pool().query(
    `SELECT f.id, f.anomaly_id, f.label::text AS label, a.stream_ids, a.stream_id,
            (extract(epoch FROM a.start_at) * 1000)::float8 AS start_ms,
            (extract(epoch FROM COALESCE(a.end_at, now())) * 1000)::float8 AS end_ms
     FROM feedback f JOIN anomaly a ON a.id = f.anomaly_id
     WHERE f.applied_at IS NULL AND f.label IS NOT NULL ORDER BY f.id LIMIT $1`,
    [limit],
  );
  return res.rows.map((r) => ({
    id: r.id,
    anomalyId: r.anomaly_id,
    label: r.label,
    streamIds: (r.stream_ids as number[]).length ? (r.stream_ids as number[]) : [r.stream_id as number],
    startMs: r.start_ms,
    endMs: r.end_ms,
  }));
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
  const res = await pool().query(
    `SELECT f.label::text AS label, a.stream_ids, a.stream_id,
            (extract(epoch FROM a.start_at) * 1000)::float8 AS start_ms,
            (extract(epoch FROM a.end_at) * 1000)::float8 AS end_ms,
            (extract(epoch FROM f.applied_data_at) * 1000)::float8 AS data_ms
     FROM feedback f JOIN anomaly a ON a.id = f.anomaly_id
     WHERE f.label IS NOT NULL AND (a.stream_id = ANY($1::int[]) OR a.stream_ids && $1::int[]) ORDER BY f.id`,
    [streamIds],
  );
  return res.rows.map((r) => ({
    streamIds: (r.stream_ids as number[]).length ? (r.stream_ids as number[]) : [r.stream_id as number],
    label: r.label as TAnomalyLabel,
    startMs: r.start_ms as number,
    endMs: (r.end_ms as number | null) ?? null,
    appliedDataMs: (r.data_ms as number | null) ?? null,
  }));
}

export async function listFeedback(anomalyId: string) {
  const res = await pool().query(
    `SELECT id, label::text AS label, comment, author, (extract(epoch FROM created_at) * 1000)::float8 AS created_ms,
            applied_at IS NOT NULL AS applied
     FROM feedback WHERE anomaly_id = $1 ORDER BY id`,
    [anomalyId],
  );
  return res.rows.map((r) => ({
    id: r.id as number,
    label: r.label as TAnomalyLabel | null,
    comment: r.comment as string | null,
    author: r.author as string,
    createdAtMs: r.created_ms as number,
    applied: r.applied as boolean,
  }));
}
