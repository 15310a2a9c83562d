import type { TRole } from "@/lib/auth/roles";
import { pool } from "../db";

/** Reads and small changes on accounts; creating one goes through better-auth (users-service). */
export interface UserRow {
  id: string;
  username: string;
  name: string;
  role: TRole;
  createdAtMs: number;
  lastSeenAtMs: number | null;
}

export async function listUsers(): Promise<UserRow[]> {
  const res = await pool().query(
    `SELECT u.id, u.username, u.name, u.role, (extract(epoch FROM u.created_at) * 1000)::float8 AS created_ms,
            (SELECT (extract(epoch FROM max(s.updated_at)) * 1000)::float8 FROM auth_session s WHERE s.user_id = u.id) AS seen_ms
       FROM auth_user u ORDER BY u.username`,
  );
  return res.rows.map((r) => ({
    id: String(r.id),
    username: String(r.username ?? r.name),
    name: String(r.name),
    role: r.role as TRole,
    createdAtMs: Number(r.created_ms),
    lastSeenAtMs: r.seen_ms === null ? null : Number(r.seen_ms),
  }));
}

export async function countUsers(): Promise<number> {
  const res = await pool().query(`SELECT count(*)::int AS n FROM auth_user`);
  return Number(res.rows[0]?.n ?? 0);
}

export async function findUserRole(id: string): Promise<TRole | undefined> {
  const res = await pool().query(`SELECT role FROM auth_user WHERE id = $1`, [id]);
  return res.rows[0]?.role as TRole | undefined;
}

/** Sets a role unless that would leave no admin; returns false when refused for that reason. */
export async function setUserRoleKeepingAnAdmin(id: string, role: TRole): Promise<"ok" | "missing" | "last-admin"> {
  const res = await pool().query(
    `UPDATE auth_user SET role = $2, updated_at = now()
      WHERE id = $1 AND ($2 = 'admin' OR EXISTS (SELECT 1 FROM auth_user WHERE role = 'admin' AND id <> $1))
      RETURNING id`,
    [id, role],
  );
  if (res.rowCount) return "ok";
  return (await findUserRole(id)) ? "last-admin" : "missing";
}

export async function deleteUserKeepingAnAdmin(id: string): Promise<"ok" | "missing" | "last-admin"> {
  const res = await pool().query(
    `DELETE FROM auth_user WHERE id = $1 AND (role <> 'admin' OR EXISTS (SELECT 1 FROM auth_user WHERE role = 'admin' AND id <> $1)) RETURNING id`,
    [id],
  );
  if (res.rowCount) return "ok";
  return (await findUserRole(id)) ? "last-admin" : "missing";
}

export async function setUserPasswordHash(id: string, passwordHash: string): Promise<boolean> {
  const res = await pool().query(`UPDATE auth_account SET password = $2, updated_at = now() WHERE user_id = $1 AND provider_id = 'credential'`, [id, passwordHash]);
  return (res.rowCount ?? 0) > 0;
}

export async function deleteUserSessions(id: string): Promise<void> {
  await pool().query(`DELETE FROM auth_session WHERE user_id = $1`, [id]);
}
