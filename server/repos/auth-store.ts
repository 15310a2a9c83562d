import type pg from "pg";
import { pool } from "../db";

/**
 * The connection pool better-auth (server/services/auth/auth.ts) runs its own queries on: its
 * adapter is the repository for the auth_user, auth_session, auth_account and auth_verification
 * tables (schema in prisma/schema.prisma).
 */
export function authDatabase(): pg.Pool {
  return pool();
}
