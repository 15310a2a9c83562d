import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NpmStart, until } from "../server/testing/npm-start";
import { ensureBuilt, freePort } from "../server/testing/omen-server";
import { query as queryAt } from "../server/testing/pg-query";

/**
 * Embedded-mode durability as a user meets it: `npm start`, let the host collector write, kill
 * `npm start` with SIGKILL (no clean shutdown; its children notice and exit), start again: every
 * stream, sample and anomaly is still there and collection resumes.
 */
let dataDir = "";
let omen: NpmStart | undefined;

const query = <T extends pg.QueryResultRow>(sql: string) => queryAt<T>(omen!.databaseUrl(), sql);

const counts = () =>
  query<{ streams: number; samples: number; anomalies: number }>(
    "SELECT (SELECT count(*)::int FROM stream) AS streams, (SELECT count(*)::int FROM sample) AS samples, (SELECT count(*)::int FROM anomaly) AS anomalies",
  ).then((r) => r[0]!);

describe("npm start in embedded mode survives a kill", () => {
  beforeAll(async () => {
    ensureBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "omen-restart-"));
    omen = new NpmStart({
      port: await freePort(),
      dataDir,
      token: "restart-test-token-0123456789",
      env: { OMEN_COLLECT_INTERVAL_MS: "1000", OMEN_DISABLE_HOST_COLLECTOR: "0" },
    });
  });
  afterAll(async () => {
    await omen?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps streams, samples and anomalies after SIGKILL and restart", async () => {
    await omen!.start();
    await until("60 samples from the host collector", async () => ((await counts()).samples >= 60 ? true : undefined), 60_000, 500);
    // An anomaly row as a user would have it after triage, so anomalies are covered too.
    const [stream] = await query<{ id: number }>("SELECT id FROM stream ORDER BY id LIMIT 1");
    await query(
      `INSERT INTO anomaly (id, engine_id, stream_id, stream_ids, start_at, peak_score, severity, type, status, label, updated_at)
       VALUES (gen_random_uuid(), 'restart-test', ${stream!.id}, ARRAY[${stream!.id}], now(), 97, 'high', 'point', 'acknowledged', 'true_anomaly', now())`,
    );
    const before = await counts();
    const keysBefore = (await query<{ key: string }>("SELECT key FROM stream ORDER BY id")).map((r) => r.key);

    // Children notice the dead parent within ~1 s and exit, freeing the port (waited for up to
    // 60 s: under a loaded machine the children's shutdown can take a while).
    await omen!.killParent();

    await omen!.start();
    const after = await counts();
    expect(after.streams).toBe(before.streams);
    expect(after.samples).toBeGreaterThanOrEqual(before.samples);
    expect(after.anomalies).toBe(before.anomalies);
    expect((await query<{ key: string }>("SELECT key FROM stream ORDER BY id")).map((r) => r.key)).toEqual(keysBefore);
    const [a] = await query<{ status: string; label: string }>("SELECT status::text, label::text FROM anomaly WHERE engine_id = 'restart-test'");
    expect(a).toEqual({ status: "acknowledged", label: "true_anomaly" });
    // Collection resumes on the restarted instance.
    await until("new samples after the restart", async () => ((await counts()).samples > after.samples ? true : undefined), 30_000, 500);
  });
});
