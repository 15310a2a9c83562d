import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedDatabase, type EmbeddedDatabase } from "./embedded-db";

/** The embedded database's files are owner-only and its port wants the generated password. */
describe("embedded database protection", () => {
  let dir: string;
  let db: EmbeddedDatabase;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "omen-embedded-"));
    // as an older Omen left it: world-readable
    fs.mkdirSync(path.join(dir, "old"), { mode: 0o777 });
    fs.writeFileSync(path.join(dir, "old", "f"), "x", { mode: 0o666 });
    fs.chmodSync(path.join(dir, "old", "f"), 0o666);
    db = await startEmbeddedDatabase(dir);
  });
  afterAll(async () => {
    await db?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("directories are 0700 and files 0600, including files written after start", async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query("CREATE TABLE after_start (x int); INSERT INTO after_start VALUES (1); CHECKPOINT");
    await c.end();
    const bad: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        const mode = fs.statSync(p).mode & 0o777;
        if (e.isDirectory()) {
          if (mode !== 0o700) bad.push(`${p} ${mode.toString(8)}`);
          walk(p);
        } else if (e.isFile() && mode !== 0o600) bad.push(`${p} ${mode.toString(8)}`);
      }
    };
    walk(dir);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(bad).toEqual([]);
    expect(fs.readFileSync(path.join(dir, "db-password"), "utf8").length).toBeGreaterThanOrEqual(24);
  });

  it("the right password connects; none, a wrong one, or another user's guess is refused with 28P01", async () => {
    const ok = new pg.Client({ connectionString: db.url });
    await ok.connect();
    expect((await ok.query("SELECT current_user AS u")).rows[0].u).toBe("postgres");
    await ok.end();
    const u = new URL(db.url);
    for (const password of ["", "wrong-password"]) {
      const c = new pg.Client({ host: "127.0.0.1", port: Number(u.port), user: "postgres", password, database: "postgres" });
      const err = await c.connect().then(
        () => null,
        (e: Error & { code?: string }) => e,
      );
      expect(err?.code ?? err?.message).toMatch(/28P01|password/);
      await c.end().catch(() => undefined);
    }
  });
});
