import type { TAnomalyLabel, TAnomalyType, TSeverity } from "@/lib/schemas/stream";
import { pool } from "../db";

export interface StoredAnomaly {
  id: string;
  engineId: string;
  streamId: number;
  startMs: number;
  endMs: number | null;
  peakScore: number;
  severity: TSeverity;
  type: TAnomalyType;
  label: TAnomalyLabel | null;
}

/** Anomalies the worker stored for `ids` that overlap [from, to). */
export async function storedAnomalies(ids: number[], fromMs: number, toMs: number): Promise<StoredAnomaly[]> {
  if (ids.length === 0) return [];
  const res = await pool().query(
    `SELECT id, engine_id, stream_id, (extract(epoch FROM start_at) * 1000)::float8 AS start_ms,
            (extract(epoch FROM end_at) * 1000)::float8 AS end_ms, peak_score, severity::text AS severity, type::text AS type, label::text AS label
     FROM anomaly WHERE stream_id = ANY($1::int[]) AND start_at < to_timestamp($3 / 1000.0)
       AND COALESCE(end_at, 'infinity') >= to_timestamp($2 / 1000.0)
     ORDER BY start_at, stream_id`,
    [ids, fromMs, toMs],
  );
  return res.rows.map((r) => ({
    id: r.id as string,
    engineId: r.engine_id as string,
    streamId: r.stream_id as number,
    startMs: r.start_ms as number,
    endMs: (r.end_ms as number | null) ?? null,
    peakScore: r.peak_score as number,
    severity: r.severity as TSeverity,
    type: r.type as TAnomalyType,
    label: (r.label as TAnomalyLabel | null) ?? null,
  }));
}
