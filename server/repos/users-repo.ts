import { ZRole, type TRole } from "@/lib/auth/roles";
import { db, pool } from "../db";

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
  const [users, seen] = await Promise.all([
    db().authUser.findMany({ select: { id: true, username: true, name: true, role: true, createdAt: true }, orderBy: { username: "asc" } }),
    db().authSession.groupBy({ by: ["userId"], _max: { updatedAt: true } }),
  ]);
  const lastSeen = new Map(seen.map((s) => [s.userId, s._max.updatedAt]));
  return users.map((u) => ({
    id: u.id,
    username: u.username ?? u.name,
    name: u.name,
    // the column is free text for better-auth; Omen writes only its three roles
    role: ZRole.parse(u.role),
    createdAtMs: u.createdAt.getTime(),
    lastSeenAtMs: lastSeen.get(u.id)?.getTime() ?? null,
  }));
}

export async function countUsers(): Promise<number> {
  return db().authUser.count();
}

export async function findUserRole(id: string): Promise<TRole | undefined> {
  const u = await db().authUser.findUnique({ where: { id }, select: { role: true } });
  return u ? ZRole.parse(u.role) : undefined;
}

/** Sets a role unless that would leave no admin; returns false when refused for that reason. */
export async function setUserRoleKeepingAnAdmin(id: string, role: TRole): Promise<"ok" | "missing" | "last-admin"> {
  // one statement, so two admins demoting each other at once cannot both succeed
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
  const res = await db().authAccount.updateMany({ where: { userId: id, providerId: "credential" }, data: { password: passwordHash, updatedAt: new Date() } });
  return res.count > 0;
}

export async function deleteUserSessions(id: string): Promise<void> {
  await db().authSession.deleteMany({ where: { userId: id } });
}
