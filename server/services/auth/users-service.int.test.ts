import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";

// the auth secret is kept in OMEN_DATA_DIR: a throwaway one, set before env() is first read
process.env.OMEN_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "omen-auth-"));
const users = await import("./users-service");
const { auth } = await import("./auth");

describe.each(availableBackends())("first admin and accounts (%s)", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await tdb?.drop();
    (globalThis as { __omenAuth?: unknown }).__omenAuth = undefined;
  });

  it("with no account, a one-time set-up link creates the first admin; it works once", async () => {
    const first = await users.ensureFirstAdmin(undefined);
    expect(first.kind).toBe("setup-link");
    const secret = new URLSearchParams((first as { path: string }).path.split("?")[1]).get("token")!;
    expect(await users.setupTokenValid("wrong")).toBe(false);
    await expect(users.completeSetup("wrong", "root", "root-password-1")).rejects.toThrow(/not valid/);
    expect(await users.setupTokenValid(secret)).toBe(true);
    await users.completeSetup(secret, "root", "root-password-1");
    await expect(users.completeSetup(secret, "root2", "root-password-2")).rejects.toThrow(/not valid/);
    expect((await users.userList()).map((u) => [u.username, u.role])).toEqual([["root", "admin"]]);
    expect(await users.ensureFirstAdmin("ignored-password")).toEqual({ kind: "has-users" });
    // the password is an argon2id hash, and signing in works with it
    const signed = await auth().api.signInUsername({ body: { username: "root", password: "root-password-1" } });
    expect(signed?.user).toMatchObject({ username: "root" });
  });

  it("the last admin can be neither demoted nor removed; a password reset ends the user's sessions", async () => {
    const [root] = await users.userList();
    await expect(users.changeUserRole(root!.id, "viewer")).rejects.toThrow(/at least one admin/);
    const { id } = await users.createUser("Ops.Person", "ops-password-1", "operator");
    await expect(users.createUser("ops.person", "another-pass-1", "viewer")).rejects.toThrow(/exists already/);
    await expect(users.removeUser(root!.id, id)).rejects.toThrow(/at least one admin/);
    await expect(users.removeUser(id, id)).rejects.toThrow(/your own account/);
    await auth().api.signInUsername({ body: { username: "ops.person", password: "ops-password-1" } });
    await users.resetUserPassword(id, "new-password-1");
    await expect(auth().api.signInUsername({ body: { username: "ops.person", password: "ops-password-1" } })).rejects.toThrow();
    await users.changeUserRole(id, "admin");
    await users.changeUserRole(root!.id, "viewer");
    expect((await users.userList()).map((u) => `${u.username}:${u.role}`).sort()).toEqual(["ops.person:admin", "root:viewer"]);
  });
});
