import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeWriteRequest } from "../lib/ingest/remote-write";
import { hashNoise } from "../lib/scenarios/hash-noise";
import { NpmStart, until } from "../server/testing/npm-start";
import { ensureBuilt, freePort } from "../server/testing/omen-server";
import { query } from "../server/testing/pg-query";
import { startThrowawayPostgres, throwawayPostgresAvailable, type ThrowawayPostgres } from "../server/testing/throwaway-postgres";

/**
 * Fault test under load (issue 14): `npm start` against a PostgreSQL cluster of its own, a
 * remote_write sender retrying until every request is acknowledged, and meanwhile `kill -9` of
 * the worker (twice), of the whole `npm start` process group (twice, started again each time)
 * and an abrupt PostgreSQL restart. Then: acknowledged = stored = scored exactly once (one score
 * row per stored (stream, ts), none written twice), 1-minute rollups exact, and the anomaly set
 * equal to an uninterrupted run on the same data in a fresh database. Prints the counts.
 *
 * OMEN_FAULT_SERIES / OMEN_FAULT_STEPS size the data (default 120 series × 1,200 steps of 10 s).
 */
const SERIES = Number(process.env.OMEN_FAULT_SERIES ?? 120);
const STEPS = Number(process.env.OMEN_FAULT_STEPS ?? 1200);
const STEPS_PER_REQUEST = 10;
const STEP_MS = 10_000;
const SOURCE = "fault";
const TOKEN = "fault-test-token-0123456789";
// history ending ten minutes ago, aligned to the minute so every rollup minute holds 6 samples
const BASE = Math.floor((Date.now() - STEPS * STEP_MS - 600_000) / 3_600_000) * 3_600_000;
const spikeSeries = new Set([3, Math.floor(SERIES / 2)]);

const valueOf = (k: number, i: number) => (spikeSeries.has(k) && i >= Math.floor(STEPS * 0.8) && i < Math.floor(STEPS * 0.8) + 5 ? 500 : 100 + (k % 7) * 10 + 5 * hashNoise(i + 1000 * k));

function requests(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let from = 0; from < STEPS; from += STEPS_PER_REQUEST) {
    const timeseries = Array.from({ length: SERIES }, (_, k) => ({
      labels: [
        { name: "__name__", value: "fault_metric" },
        { name: "series", value: String(k).padStart(4, "0") },
      ],
      samples: Array.from({ length: Math.min(STEPS_PER_REQUEST, STEPS - from) }, (_, j) => ({ value: valueOf(k, from + j), timestamp: BASE + (from + j) * STEP_MS })),
    }));
    out.push(encodeWriteRequest({ timeseries }));
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  acknowledged: number;
  stored: number;
  scored: number;
  scoreRows: number;
  rollupCount: number;
  rollupMinutesWrong: number;
  /** Σ n of the one-minute score rows: one per scored sample */
  scoreRollupCount: number;
  anomalies: string[];
  requestsRetried: number;
}

async function measure(url: string): Promise<Omit<Outcome, "acknowledged" | "requestsRetried">> {
  const ids = (await query<{ id: number }>(url, "SELECT s.id FROM stream s JOIN source o ON o.id = s.source_id WHERE o.name = $1", [SOURCE])).map((r) => r.id);
  const [stored] = await query<{ n: string }>(url, "SELECT count(*)::bigint AS n FROM sample WHERE stream_id = ANY($1::int[])", [ids]);
  const [scores] = await query<{ distinct: string; rows: string }>(
    url,
    `SELECT count(DISTINCT (s.id, b.ts))::bigint AS distinct, count(*)::bigint AS rows
     FROM score_block b JOIN unnest($1::int[]) AS s(id) ON b.block = s.id / 32 AND b.mask & (1 << (s.id % 32)) <> 0`,
    [ids],
  );
  // every minute of every stream: 6 samples, and min/max/sum as the data says
  const rollups = await query<{ stream_id: number; series: string; bucket: number; min: number; max: number; sum: number; count: number }>(
    url,
    `SELECT r.stream_id, s.labels->>'series' AS series, (extract(epoch FROM r.bucket) * 1000)::float8 AS bucket, r.min, r.max, r.sum, r.count
     FROM sample_rollup_1m r JOIN stream s ON s.id = r.stream_id WHERE r.stream_id = ANY($1::int[])`,
    [ids],
  );
  let rollupCount = 0;
  let wrong = 0;
  for (const r of rollups) {
    rollupCount += r.count;
    const k = Number(r.series);
    const i0 = (r.bucket - BASE) / STEP_MS;
    const vals = Array.from({ length: 6 }, (_, j) => valueOf(k, i0 + j)).filter((_, j) => i0 + j < STEPS);
    const sum = vals.reduce((a, b) => a + b, 0);
    if (r.count !== vals.length || r.min !== Math.min(...vals) || r.max !== Math.max(...vals) || Math.abs(r.sum - sum) > 1e-9 * Math.abs(sum)) wrong++;
  }
  const [scoreRollup] = await query<{ n: string | null }>(url, "SELECT sum(n)::bigint AS n FROM score_rollup_1m WHERE stream_id = ANY($1::int[])", [ids]);
  const anomalies = (
    await query<{ k: string }>(
      url,
      `SELECT s.labels->>'series' || ' ' || a.type || ' ' || a.severity || ' ' || (extract(epoch FROM a.start_at) * 1000)::bigint || '..' ||
              coalesce(((extract(epoch FROM a.end_at) * 1000)::bigint)::text, 'open') || ' peak ' || round(a.peak_score::numeric, 6) AS k
       FROM anomaly a JOIN stream s ON s.id = a.stream_id WHERE a.stream_id = ANY($1::int[]) ORDER BY 1`,
      [ids],
    )
  ).map((r) => r.k);
  return { stored: Number(stored!.n), scored: Number(scores!.distinct), scoreRows: Number(scores!.rows), rollupCount, rollupMinutesWrong: wrong, scoreRollupCount: Number(scoreRollup?.n ?? 0), anomalies };
}

async function scenario(cluster: ThrowawayPostgres, db: string, faults: boolean): Promise<Outcome> {
  await query(cluster.url(), `CREATE DATABASE ${db}`);
  const url = cluster.url(db);
  const dataDir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "omen-fault-"));
  dataDirs.push(dataDir);
  const omen = new NpmStart({
    port: await freePort(),
    databaseUrl: url,
    dataDir,
    token: TOKEN,
    env: { OMEN_SNAPSHOT_INTERVAL_MS: "5000", OMEN_WORKER_RESTART_LIMIT: "8" },
  });
  started.push(omen);
  await omen.start();
  const bodies = requests();
  const total = bodies.length;
  // faults at fixed points of the send, each waited for before the next one
  const schedule: { at: number; name: string; run: () => Promise<void> }[] = faults
    ? [
        { at: 0.1, name: "kill -9 worker", run: () => omen.killWorker() },
        { at: 0.22, name: "kill -9 worker", run: () => omen.killWorker() },
        { at: 0.36, name: "kill -9 npm start group", run: async () => (await omen.killGroup(), await omen.start()) },
        { at: 0.52, name: "kill -9 npm start group", run: async () => (await omen.killGroup(), await omen.start()) },
        { at: 0.7, name: "PostgreSQL restart (immediate)", run: () => cluster.restart("immediate") },
      ]
    : [];
  let acknowledged = 0;
  let retried = 0;
  let faultChain: Promise<void> = Promise.resolve();
  for (let r = 0; r < total; r++) {
    while (schedule.length && r >= schedule[0]!.at * total) {
      const f = schedule.shift()!;
      faultChain = faultChain.then(async () => {
        const t = Date.now();
        await f.run();
        console.log(`[fault] ${f.name} at request ${r}/${total}: recovered in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      });
    }
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${omen.url}/api/v1/write?source=${SOURCE}`, {
        method: "POST",
        headers: { "content-type": "application/x-protobuf", "content-encoding": "snappy", "x-prometheus-remote-write-version": "0.1.0", authorization: `Bearer ${TOKEN}` },
        body: Buffer.from(bodies[r]!),
        signal: AbortSignal.timeout(30_000),
      }).catch(() => null);
      if (res && res.status >= 200 && res.status < 300) break;
      if (res && res.status < 500 && res.status !== 429) throw new Error(`request ${r}: ${res.status} ${await res.text()}`);
      await res?.body?.cancel();
      retried++;
      if (attempt > 600) throw new Error(`request ${r} never acknowledged:\n${omen.log}`);
      await sleep(Math.min(1_000, Number(res?.headers.get("retry-after") ?? 0) * 1000 || 200));
    }
    acknowledged += SERIES * Math.min(STEPS_PER_REQUEST, STEPS - r * STEPS_PER_REQUEST);
    if (faults) await sleep(40); // spread the send so the faults land while it is under way
  }
  await faultChain;
  // the worker catches up: everything stored is scored and the counts stay put; then a clean
  // stop writes the minutes still open (the newest rollup minute is written two data-minutes on)
  let last = "";
  await until(
    "the worker to score everything",
    async () => {
      const m = await measure(url);
      const key = `${m.stored}/${m.scored}/${m.scoreRows}/${m.rollupCount}/${m.anomalies.length}`;
      const done = m.stored === acknowledged && m.scored === m.stored && key === last;
      last = key;
      return done ? true : undefined;
    },
    240_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message} (last counts stored/scored/score rows/rollup/anomalies ${last})\n${omen.log}`);
  });
  await omen.stop();
  const m = await measure(url);
  return { acknowledged, requestsRetried: retried, ...m };
}

const started: NpmStart[] = [];
const dataDirs: string[] = [];

describe.skipIf(!throwawayPostgresAvailable())("fault test under load: kill -9 of the worker and of npm start, PostgreSQL restart", () => {
  let cluster: ThrowawayPostgres;
  beforeAll(async () => {
    ensureBuilt();
    cluster = await startThrowawayPostgres();
  });
  afterAll(async () => {
    for (const o of started) await o.stop().catch(() => undefined);
    await cluster?.stop();
    for (const d of dataDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it("acknowledged = stored = scored exactly once, rollups exact, anomalies as in an uninterrupted run", async () => {
    const faulted = await scenario(cluster, "omen_faulted", true);
    const clean = await scenario(cluster, "omen_clean", false);
    const row = (name: string, o: Outcome) =>
      `${name.padEnd(14)} acknowledged ${o.acknowledged}  stored ${o.stored}  scored ${o.scored}  score rows ${o.scoreRows}  rollup count ${o.rollupCount} (wrong minutes ${o.rollupMinutesWrong})  score rollup n ${o.scoreRollupCount}  anomalies ${o.anomalies.length}  retried requests ${o.requestsRetried}`;
    console.log(`[fault] ${row("with faults", faulted)}\n[fault] ${row("uninterrupted", clean)}`);
    const total = SERIES * STEPS;
    for (const o of [faulted, clean]) {
      expect(o.acknowledged).toBe(total);
      expect(o.stored).toBe(total);
      expect(o.scored).toBe(total);
      expect(o.scoreRows).toBe(total);
      expect(o.rollupCount).toBe(total);
      expect(o.rollupMinutesWrong).toBe(0);
      expect(o.scoreRollupCount).toBe(total);
    }
    expect(clean.anomalies.length).toBeGreaterThan(0);
    expect(faulted.anomalies).toEqual(clean.anomalies);
  }, 900_000);
});
