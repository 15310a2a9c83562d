/**
 * `npm run bench:retention`: retention's day drop under live ingest.
 *
 * Omen (web process + worker, `startOmenServer`, fresh database) receives Prometheus
 * remote_write at a steady rate: every tick one scrape of all `--series` at the tick's time, in
 * `--lanes` requests, each sent on schedule whether or not the earlier ones were answered (open
 * loop: a stall shows as latency, not as a slower sender). Before the load, the same series get
 * `--days` days of history 8 days back and more, through the same endpoint, and the worker
 * scores it all; with a retention of 7 days those days lie before every stream's cut.
 *
 * Phases, each `--phase-s` seconds of load, latency = request sent → 2xx (committed):
 *   A. no drop: the baseline.
 *   B. long reader: a SELECT on sample_block that runs `--reader-s` seconds starts, then the
 *      drop (`dropExpiredDays`, the retention job's only step that takes ACCESS EXCLUSIVE locks)
 *      runs: it waits `DROP_LOCK_WAIT` (4 attempts of 250 ms, 2 s apart), gives way, and drops nothing. Not on PGlite (one statement
 *      at a time, hosted in this process: no lock is ever waited for) nor with --reader-s 0.
 *   C. the next run: the reader has finished; the drop runs mid-phase and drops the days.
 * Then: samples acknowledged (2xx) vs samples stored in the load's time range (must be equal).
 * The web process and worker keep their own retention job out of the way (OMEN_RETENTION_DAYS=3650).
 *
 * Options: --series 2000 --lanes 2 --hz 10 --days 4 --seed-steps 96 --phase-s 20 --reader-s 12
 *          --backend postgres|pglite (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres)
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { encodeWriteRequest } from "../lib/ingest/remote-write";
import { pool } from "../server/db";
import type { DayDrop } from "../server/repos/storage/retention";
import { DAY_MS, dayOf, listDayPartitions } from "../server/repos/storage/time-partitions";
import { startOmenServer } from "../server/testing/omen-server";
import { createTestDatabase } from "../server/testing/test-db";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const SERIES = arg("series", 2000);
const LANES = arg("lanes", 2);
const HZ = arg("hz", 10);
const DAYS = arg("days", 4);
const SEED_STEPS = arg("seed-steps", 96);
const PHASE_MS = arg("phase-s", 20) * 1000;
const READER_MS = arg("reader-s", 12) * 1000;
const BACKEND = process.argv.includes("--backend") && process.argv[process.argv.indexOf("--backend") + 1] === "pglite" ? "pglite" : "postgres";
const READER = BACKEND === "postgres" && READER_MS > 0;
const RETENTION_MS = 7 * DAY_MS;

const loadavg = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
/** wall time in ms, fractional: comparable with the drop process's clock */
const wall = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;

const labels = Array.from({ length: SERIES }, (_, i) => [
  { name: "__name__", value: "node_load" },
  { name: "instance", value: `host-${Math.floor(i / 8)}:9100` },
  { name: "cpu", value: String(i % 8) },
]);

/** One scrape at `t` of lane `l`'s series, encoded as Prometheus sends it. */
function scrape(t: number, l: number): { body: Uint8Array; samples: number } {
  const per = Math.ceil(SERIES / LANES);
  const timeseries = [];
  for (let i = l * per; i < Math.min(SERIES, (l + 1) * per); i++) {
    timeseries.push({ labels: labels[i]!, samples: [{ timestamp: t, value: 50 + 10 * Math.sin(t / 3.6e6 + i) + ((i * 7919 + t) % 997) / 997 }] });
  }
  return { body: encodeWriteRequest({ timeseries }), samples: timeseries.length };
}

interface Sent {
  t0: number;
  t1: number;
  ok: boolean;
  samples: number;
}

async function post(url: string, token: string, body: Uint8Array): Promise<boolean> {
  for (let attempt = 0; attempt < 20; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/x-protobuf", "content-encoding": "snappy", "x-prometheus-remote-write-version": "0.1.0" },
        body: Buffer.from(body),
      });
    } catch {
      continue; // a keep-alive socket the server closed: Prometheus retries too
    }
    await res.text();
    if (res.ok) return true;
    if (res.status !== 429 && res.status < 500) return false;
    await sleep(Math.min(2, Number(res.headers.get("retry-after") ?? 1)) * 1000);
  }
  return false;
}

/** Sends a scrape every 1/HZ s until stopped; every request's send and answer times. */
function steadyLoad(url: string, token: string): { stop(): Promise<Sent[]>; sent: Sent[] } {
  const sent: Sent[] = [];
  const inflight: Promise<void>[] = [];
  let lastTs = 0;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    // distinct, increasing timestamps (the tick's time), never ahead of the wall clock
    const t = Math.max(lastTs + 1, Date.now());
    lastTs = t;
    for (let l = 0; l < LANES; l++) {
      const { body, samples } = scrape(t, l);
      const rec: Sent = { t0: wall(), t1: 0, ok: false, samples };
      sent.push(rec);
      inflight.push(post(url, token, body).then((ok) => void Object.assign(rec, { ok, t1: wall() })));
    }
  };
  const timer = setInterval(tick, 1000 / HZ);
  tick();
  return {
    sent,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all(inflight);
      return sent;
    },
  };
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function latencyLine(name: string, reqs: Sent[]): string {
  const lat = reqs.map((r) => r.t1 - r.t0);
  return `${name.padEnd(38)} ${String(reqs.length).padStart(5)} requests  p50 ${ms(pct(lat, 50)).padStart(8)}  p99 ${ms(pct(lat, 99)).padStart(9)}  max ${ms(Math.max(...lat)).padStart(9)}`;
}

/** Requests in flight at some moment of [from, to]. */
const overlapping = (reqs: Sent[], from: number, to: number) => reqs.filter((r) => r.t0 <= to && r.t1 >= from);

/** The day drop, run in a process of its own (bench/lib/drop-expired-days.ts); its start and end in wall ms. */
async function timedDrop(url: string): Promise<DayDrop & { from: number; to: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "lib", "drop-expired-days.ts"), url, String(RETENTION_MS)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const code = await new Promise((r) => child.once("exit", r));
  if (code !== 0) throw new Error(`the drop failed (exit ${String(code)}): ${out}`);
  return JSON.parse(out.trim().split("\n").pop()!) as DayDrop & { from: number; to: number };
}

const dropLine = (d: DayDrop) =>
  d.gaveWay
    ? `gave way after waiting ${ms(d.waitMs)} for the locks, dropped nothing`
    : `dropped ${d.tables} tables: waited ${ms(d.waitMs)} for the locks, held them ${ms(d.heldMs)} to the DROP's end, then COMMIT ${ms(d.commitMs)} (WAL flush under the locks, file unlinks after)`;

async function main(): Promise<void> {
  process.env.TEST_DATABASE_URL ??= process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  console.log(`bench:retention (${BACKEND}) — ${SERIES} series at ${HZ} scrapes/s in ${LANES} requests each (${SERIES * HZ} samples/s), ${DAYS} expired days × ${SEED_STEPS} scrapes, phases of ${PHASE_MS / 1000} s`);
  console.log(`load average at start: ${loadavg()}`);
  const tdb = await createTestDatabase(BACKEND);
  await (await import("../server/repos/sources-repo")).ensureSource("prometheus", "remote_write", {}, SERIES * 2);
  const omen = await startOmenServer({ databaseUrl: tdb.url, worker: true, env: { OMEN_RETENTION_DAYS: "3650", OMEN_MAX_BODY_BYTES: String(64 * 1024 * 1024) } });
  const url = `${omen.url}/api/v1/write`;
  try {
    // history: DAYS days ending 8 days ago, every series, SEED_STEPS scrapes a day
    const today = dayOf(Date.now());
    const seed0 = performance.now();
    let seeded = 0;
    for (let d = today - 8 - DAYS + 1; d <= today - 8; d++) {
      for (let s = 0; s < SEED_STEPS; s += 8) {
        await Promise.all(
          Array.from({ length: Math.min(8, SEED_STEPS - s) }, async (_, k) => {
            const t = d * DAY_MS + Math.floor(((s + k) * DAY_MS) / SEED_STEPS);
            for (let l = 0; l < LANES; l++) {
              const { body, samples } = scrape(t, l);
              if (!(await post(url, omen.token, body))) throw new Error("a history request was refused");
              seeded += samples;
            }
          }),
        );
      }
    }
    const expiredTables = (await listDayPartitions()).filter((p) => p.endDay <= today - 7).length;
    console.log(`history: ${seeded.toLocaleString("en-US")} samples on ${DAYS} days in ${((performance.now() - seed0) / 1000).toFixed(1)} s; ${expiredTables} day tables before the cut`);

    // live load from here on; the worker catches up with the history and gives every stream its newest sample
    const liveFrom = Date.now();
    const load = steadyLoad(url, omen.token);
    const caught0 = performance.now();
    for (;;) {
      const r = await pool().query<{ behind: string; unset: string }>(
        `SELECT (SELECT max(seq) FROM sample_block) - (SELECT min(cursor) FROM worker_status) AS behind,
                (SELECT count(*) FROM stream WHERE last_sample_at IS NULL OR last_sample_at < to_timestamp($1 / 1000.0)) AS unset`,
        [liveFrom],
      );
      if (Number(r.rows[0]!.unset) === 0 && Number(r.rows[0]!.behind) < 100) break;
      if (performance.now() - caught0 > 600_000) throw new Error(`the worker did not catch up: ${JSON.stringify(r.rows[0])}`);
      await sleep(500);
    }
    const expiredBytes = await pool().query<{ b: string }>(
      "SELECT coalesce(sum(pg_total_relation_size(to_regclass(quote_ident(t)))), 0) AS b FROM unnest($1::text[]) t",
      [(await listDayPartitions()).filter((p) => p.endDay <= today - 7).map((p) => p.table)],
    );
    console.log(
      `worker caught up with the history in ${((performance.now() - caught0) / 1000).toFixed(1)} s (load running); the expired days' tables hold ${(Number(expiredBytes.rows[0]!.b) / 2 ** 20).toFixed(0)} MiB; settling 5 s`,
    );
    await sleep(5_000);

    const phase = async (name: string, during: () => Promise<void>) => {
      const idx = load.sent.length;
      const la0 = loadavg();
      await Promise.all([during(), sleep(PHASE_MS)]);
      // the phase's requests: sent in it; their answers are awaited at the end
      return { name, from: idx, to: load.sent.length, load: `${la0} → ${loadavg()}` };
    };

    const a = await phase("A. no drop", async () => undefined);

    let gaveWay: (DayDrop & { from: number; to: number }) | undefined;
    let readerSpan = [0, 0];
    // PGlite runs one statement at a time, in this process: a long reader there stops every
    // other statement (and this process's load) whatever retention does, and no lock is waited for
    const b = !READER ? null : await phase("B. long reader, drop gives way", async () => {
      await sleep(PHASE_MS / 4);
      const reader = new pg.Client({ connectionString: tdb.url });
      await reader.connect();
      const r0 = performance.now();
      const read = reader.query("SELECT (SELECT count(*) FROM sample_block) AS n, pg_sleep($1)", [READER_MS / 1000]).then(() => (readerSpan = [r0, performance.now()]));
      await sleep(1_000);
      gaveWay = await timedDrop(tdb.url);
      await read;
      await reader.end();
    });
    const tablesAfterB = (await listDayPartitions()).filter((p) => p.endDay <= today - 7).length;

    let dropped: (DayDrop & { from: number; to: number }) | undefined;
    const c = await phase("C. next run drops", async () => {
      await sleep(PHASE_MS / 2);
      dropped = await timedDrop(tdb.url);
    });
    const sent = await load.stop();
    const tablesAfterC = (await listDayPartitions()).filter((p) => p.endDay <= today - 7).length;

    const acked = sent.filter((r) => r.ok).reduce((n, r) => n + r.samples, 0);
    const refused = sent.filter((r) => !r.ok).length;
    const stored = Number(
      (
        await pool().query<{ n: string }>(
          "SELECT count(*) AS n FROM sample s JOIN stream st ON st.id = s.stream_id WHERE st.metric = 'node_load' AND s.ts >= to_timestamp($1 / 1000.0)",
          [liveFrom],
        )
      ).rows[0]!.n,
    );

    console.log("");
    console.log(`latency, request sent → 2xx (committed); load average (1, 5, 15 min) at the phase's start → end`);
    for (const p of [a, b, c]) {
      if (!p) continue;
      const reqs = sent.slice(p.from, p.to);
      console.log(`${latencyLine(p.name, reqs)}   load ${p.load}`);
    }
    if (gaveWay) {
      console.log(`\nB: reader ran ${ms(readerSpan[1]! - readerSpan[0]!)}; the drop ${dropLine(gaveWay)}; day tables before the cut: ${expiredTables} → ${tablesAfterB}`);
      console.log(latencyLine("   in flight while the drop waited", overlapping(sent, gaveWay.from, gaveWay.to)));
    }
    if (dropped) {
      console.log(`C: the drop ${dropLine(dropped)} (call ${ms(dropped.to - dropped.from)}); day tables before the cut: ${tablesAfterB} → ${tablesAfterC}`);
      console.log(latencyLine("   in flight during the drop", overlapping(sent, dropped.from, dropped.to)));
      console.log(latencyLine("   sent between LOCK and COMMIT's end", sent.filter((r) => r.t0 >= dropped!.to - dropped!.commitMs - dropped!.heldMs && r.t0 <= dropped!.to)));
    }
    console.log(`\nacknowledged ${acked.toLocaleString("en-US")} samples (${refused} requests refused after retries), stored ${stored.toLocaleString("en-US")}: ${acked === stored ? "equal, nothing acknowledged was lost" : "DIFFERENT"}`);
    console.log(`load average at end: ${loadavg()}`);
    if (acked !== stored || !dropped?.tables || (READER && !gaveWay?.gaveWay)) process.exitCode = 1;
  } finally {
    await omen.stop();
    await tdb.drop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
