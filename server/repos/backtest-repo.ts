import { z } from "zod";
import { ZAnomalyLabel, ZAnomalyType, ZSeverity, type TAnomalyLabel, type TAnomalyType, type TSeverity } from "@/lib/schemas/stream";
import { pool } from "../db";
import { queryRows } from "./rows";

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
  const rows = await queryRows(
    pool(),
    z.object({
      id: z.string(),
      engine_id: z.string(),
      stream_id: z.number(),
      start_ms: z.number(),
      end_ms: z.number().nullable(),
      peak_score: z.number(),
      severity: ZSeverity,
      type: ZAnomalyType,
      label: ZAnomalyLabel.nullable(),
    }),
    `SELECT id, engine_id, stream_id, (extract(epoch FROM start_at) * 1000)::float8 AS start_ms,
            (extract(epoch FROM end_at) * 1000)::float8 AS end_ms, peak_score, severity::text AS severity, type::text AS type, label::text AS label
     FROM anomaly WHERE stream_id = ANY($1::int[]) AND start_at < to_timestamp($3 / 1000.0)
       AND COALESCE(end_at, 'infinity') >= to_timestamp($2 / 1000.0)
     ORDER BY start_at, stream_id`,
    [ids, fromMs, toMs],
  );
  return rows.map((r) => ({
    id: r.id,
    engineId: r.engine_id,
    streamId: r.stream_id,
    startMs: r.start_ms,
    endMs: r.end_ms,
    peakScore: r.peak_score,
    severity: r.severity,
    type: r.type,
    label: r.label,
  }));
}
