import { pool } from "../db";

/** The incident an anomaly (by its engine event id) was put in. */
export async function incidentOf(engineId: string): Promise<number> {
  const r = await pool().query<{ incident_id: number | null }>(`SELECT incident_id FROM anomaly WHERE engine_id = $1`, [engineId]);
  return r.rows[0]!.incident_id!;
}
