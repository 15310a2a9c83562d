import { pool } from "../db";

/** One row per stream with what the Prometheus export publishes. */
export async function streamScoresForExport(limit: number): Promise<
  { id: number; key: string; metric: string; source: string; score: number | null; health: number | null; severity: string | null }[]
> {
  const res = await pool().query(
    `SELECT s.id, s.key, s.metric, src.name AS source, s.last_score AS score, h.health,
            (SELECT a.severity::text FROM anomaly a WHERE a.stream_id = s.id AND a.status = 'open' ORDER BY a.severity DESC LIMIT 1) AS severity
     FROM stream s JOIN source src ON src.id = s.source_id LEFT JOIN stream_health h ON h.stream_id = s.id
     ORDER BY s.id LIMIT $1`,
    [limit],
  );
  return res.rows;
}

export async function anomalyTotals(): Promise<{ severity: string; type: string; status: string; n: number }[]> {
  const res = await pool().query(
    `SELECT severity::text AS severity, type::text AS type, status::text AS status, count(*)::int AS n FROM anomaly GROUP BY 1, 2, 3`,
  );
  return res.rows;
}
