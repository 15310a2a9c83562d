import crypto from "node:crypto";
import { hash } from "@node-rs/argon2";
import { AppError } from "@/lib/errors/app-error";
import type { TRole } from "@/lib/auth/roles";
import { getSetting, setSetting, takeSetting } from "../../repos/settings-repo";
import {
  countUsers,
  deleteUserKeepingAnAdmin,
  deleteUserSessions,
  listUsers,
  setUserPasswordHash,
  setUserRoleKeepingAnAdmin,
  type UserRow,
} from "../../repos/users-repo";
import { auth } from "./auth";

export type TUserView = UserRow;

/** Accounts have no e-mail in Omen; better-auth wants a unique one, so each gets a local placeholder. */
function placeholderEmail(username: string): string {
  return `${username.toLowerCase()}@users.omen.invalid`;
}

export function userList(): Promise<TUserView[]> {
  return listUsers();
}

export async function createUser(username: string, password: string, role: TRole): Promise<{ id: string }> {
  const ctx = await auth().$context;
  const name = username.toLowerCase();
  if (await ctx.internalAdapter.findUserByEmail(placeholderEmail(name))) throw new AppError("CONFLICT", `The user "${name}" exists already.`);
  const user = await ctx.internalAdapter.createUser({
    email: placeholderEmail(name),
    name: username,
    username: name,
    displayUsername: username,
    role,
    emailVerified: false,
  }, { method: "admin" });
  await ctx.internalAdapter.linkAccount({ userId: user.id, providerId: "credential", accountId: user.id, password: await hash(password) });
  return { id: user.id };
}

export async function changeUserRole(id: string, role: TRole): Promise<void> {
  const r = await setUserRoleKeepingAnAdmin(id, role);
  if (r === "missing") throw new AppError("NOT_FOUND", "No such user.");
  if (r === "last-admin") throw new AppError("CONFLICT", "Omen needs at least one admin: make another user admin first.");
}

export async function removeUser(id: string, actingUserId: string | undefined): Promise<void> {
  if (id === actingUserId) throw new AppError("CONFLICT", "You cannot remove your own account.");
  const r = await deleteUserKeepingAnAdmin(id);
  if (r === "missing") throw new AppError("NOT_FOUND", "No such user.");
  if (r === "last-admin") throw new AppError("CONFLICT", "Omen needs at least one admin: make another user admin first.");
}

/** Sets a new password and signs the user out everywhere. */
export async function resetUserPassword(id: string, password: string): Promise<void> {
  if (!(await setUserPasswordHash(id, await hash(password)))) throw new AppError("NOT_FOUND", "No such user.");
  await deleteUserSessions(id);
}

// First admin ---------------------------------------------------------------------------------

const SETUP_KEY = "auth_setup_token";
const SETUP_TTL_MS = 24 * 3600 * 1000;

export type FirstStart = { kind: "has-users" } | { kind: "admin-created" } | { kind: "setup-link"; path: string };

/**
 * At start: with no account yet, creates `admin` with OMEN_ADMIN_PASSWORD, or else issues a
 * one-time set-up link (valid 24 h; only its hash is stored) for the console.
 */
export async function ensureFirstAdmin(adminPassword: string | undefined): Promise<FirstStart> {
  if ((await countUsers()) > 0) return { kind: "has-users" };
  if (adminPassword) {
    try {
      await createUser("admin", adminPassword, "admin");
    } catch (e) {
      // another process created it first
      if (!(e instanceof AppError && e.code === "CONFLICT")) throw e;
    }
    return { kind: "admin-created" };
  }
  const secret = crypto.randomBytes(24).toString("base64url");
  await setSetting(SETUP_KEY, JSON.stringify({ hash: sha256(secret), expiresMs: Date.now() + SETUP_TTL_MS }));
  return { kind: "setup-link", path: `/setup?token=${secret}` };
}

function sha256(s: string): string {
  return crypto.createHash("sha256").update(s).digest("hex");
}

function matches(raw: string | null, secret: string): boolean {
  if (!raw) return false;
  const stored = JSON.parse(raw) as { hash: string; expiresMs: number };
  if (Date.now() > stored.expiresMs) return false;
  return crypto.timingSafeEqual(Buffer.from(sha256(secret), "hex"), Buffer.from(stored.hash, "hex"));
}

/** Whether the set-up page can still create the first admin with this secret. */
export async function setupTokenValid(secret: string): Promise<boolean> {
  return (await countUsers()) === 0 && matches(await getSetting(SETUP_KEY), secret);
}

/** Creates the first admin through the set-up link; the link works once (taken atomically). */
export async function completeSetup(secret: string, username: string, password: string): Promise<void> {
  const raw = await takeSetting(SETUP_KEY);
  if ((await countUsers()) > 0 || !matches(raw, secret)) {
    if (raw && (await countUsers()) === 0) await setSetting(SETUP_KEY, raw);
    throw new AppError("UNAUTHORIZED", "This set-up link is not valid (used, expired, or an account exists already). Restart Omen for a new one.");
  }
  await createUser(username, password, "admin");
}
