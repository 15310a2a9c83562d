import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedDatabase } from "../server/embedded/embedded-db";
import { NpmStart, until } from "../server/testing/npm-start";
import { ensureBuilt, freePort } from "../server/testing/omen-server";
import { query } from "../server/testing/pg-query";
import { createTestDatabase, type TestDatabase } from "../server/testing/test-db";

/**
 * Issue 14: `kill -9` in the middle of a CSV import. `npm start` (on PostgreSQL, and on the
 * embedded PGlite it hosts) takes a CSV file from `npm run import:csv`, which it commits in
 * time slices (server/services/ingest/csv-import.ts); once some slices are committed (on
 * PostgreSQL: while the next one's transaction is under way) the whole `npm start` group is killed with SIGKILL, started again, the same import run again and killed
 * again, this time the web process alone (npm start then stops the rest and exits non-zero);
 * started again, the import is run a third time and completes. Then every row of the file is
 * stored exactly once with its value, scored exactly once, the 1-minute rollups are exact, the
 * ground-truth column's ranges are stored once per stream, and the completing run reported as
 * new exactly the samples the killed runs had not stored. Prints the counts.
 *
 * Also `kill -9` of the worker alone mid-import on PGlite: the web process keeps accepting the
 * import (it is not interrupted), npm start restarts the worker, which scores what was stored
 * before and after the kill; every sample stored and scored exactly once, rollups exact.
 */
const root = path.resolve(import.meta.dirname, "..");
const SOURCE = "csvkill";
const COLUMNS = 20;
/** a multiple of 6 (whole rollup minutes); 15,000 × 20 = 300,000 samples, six commits of 50,000 */
const ROWS = Number(process.env.OMEN_CSV_KILL_ROWS ?? 15_000);
const STEP_S = 10;
const TOTAL = ROWS * COLUMNS;
// history ending an hour ago, aligned to the hour so every rollup minute holds 6 samples
const BASE_S = Math.floor((Date.now() / 1000 - ROWS * STEP_S - 3_600) / 3_600) * 3_600;
const TRUTH = [
  [Math.floor(ROWS * 0.27), Math.floor(ROWS * 0.27) + 10],
  [Math.floor(ROWS * 0.73), Math.floor(ROWS * 0.73) + 5],
] as const;
/** Every sample of the file stored once with its value, scored once, counted once in the rollup. */
const EXACT = {
  stored: TOTAL,
  distinct: TOTAL,
  wrongValues: 0,
  scored: TOTAL,
  scoreRows: TOTAL,
  rollupCount: TOTAL,
  rollupMinutesWrong: 0,
  truthRanges: TRUTH.length * COLUMNS,
};
const TOKEN = "csv-kill-test-token-0123456789";
type Backend = "postgres" | "pglite";

/** Exact in binary, so stored values compare with `=`. */
const valueOf = (r: number, k: number) => 100 + k * 10 + ((r * 37 + k * 11) % 64) / 8;
const VALUE_SQL = `100 + k * 10 + ((r * 37 + k * 11) % 64) / 8.0`;

function wideCsv(): string {
  const lines = [["timestamp", ...Array.from({ length: COLUMNS }, (_, k) => `${SOURCE}_${k}`), "is_anomaly"].join(",")];
  for (let r = 0; r < ROWS; r++) {
    const marked = TRUTH.some(([a, b]) => r >= a && r < b) ? 1 : 0;
    lines.push([BASE_S + r * STEP_S, ...Array.from({ length: COLUMNS }, (_, k) => valueOf(r, k)), marked].join(","));
  }
  return `${lines.join("\n")}\n`;
}

/** `npm run import:csv` (scripts/import-csv.ts), as a user runs it: its exit code and output. */
function runImport(file: string, omen: NpmStart): { done: Promise<{ code: number | null; out: string }> } {
  const c = spawn(process.execPath, ["--import", "tsx", "scripts/import-csv.ts", file, "--url", omen.url, "--token", TOKEN, "--source", SOURCE], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  c.stdout.on("data", (d) => (out += d));
  c.stderr.on("data", (d) => (out += d));
  return { done: new Promise((resolve) => c.once("exit", (code) => resolve({ code, out }))) };
}

/** Block rows committed (samples of the import: nothing else writes any). */
async function committedRows(omen: NpmStart): Promise<number> {
  const [r] = await query<{ n: number }>(omen.databaseUrl(), "SELECT count(*)::int AS n FROM sample_block");
  return r!.n;
}

/**
 * Whether a commit of samples is under way: a transaction holds the ingest lock
 * (server/repos/storage/samples.ts). PostgreSQL only: PGlite is one session, which a query
 * from here gets only between transactions.
 */
async function commitUnderWay(omen: NpmStart): Promise<boolean> {
  const [r] = await query<{ n: number }>(omen.databaseUrl(), "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = $1", [0x0e11]);
  return r!.n > 0;
}

/**
 * Runs the import and, once it has committed block rows beyond `after` (and, on PostgreSQL,
 * while its next commit is under way), kills `what` with SIGKILL. Throws if the import ends
 * before (the file is too small for this machine).
 */
async function importKilled(backend: Backend, file: string, omen: NpmStart, after: number, what: "group" | "web"): Promise<{ importCode: number | null; importOut: string; startExit?: number | null }> {
  const run = runImport(file, omen);
  let finished = false;
  void run.done.then(() => (finished = true));
  await until(
    "the import to commit a slice",
    async () => {
      if (finished) throw new Error("finished");
      if ((await committedRows(omen)) <= after) return undefined;
      return backend === "pglite" || (await commitUnderWay(omen)) ? true : undefined;
    },
    120_000,
    5,
  ).catch(async (e: Error) => {
    const r = await run.done;
    throw new Error(`${e.message}: the import ended (exit ${r.code}) before it could be killed mid-way; raise OMEN_CSV_KILL_ROWS.\n${r.out}`);
  });
  const startExit = what === "group" ? (await omen.killGroup(), undefined) : await omen.killWeb();
  const r = await run.done;
  return { importCode: r.code, importOut: r.out, startExit };
}

interface Counts {
  stored: number;
  distinct: number;
  wrongValues: number;
  scored: number;
  scoreRows: number;
  rollupCount: number;
  rollupMinutesWrong: number;
  truthRanges: number;
}

/** The counts; `progress` only what scoring progress needs (cheaper, polled while the worker works). */
async function measure(url: string, progress = false): Promise<Counts> {
  const ids = (await query<{ id: number }>(url, "SELECT s.id FROM stream s JOIN source o ON o.id = s.source_id WHERE o.name = $1", [SOURCE])).map((r) => r.id);
  if (progress) {
    const [p] = await query<{ stored: string; scored: string }>(
      url,
      `SELECT (SELECT count(*) FROM sample WHERE stream_id = ANY($1::int[]))::bigint AS stored,
              (SELECT count(*) FROM score_block b JOIN unnest($1::int[]) AS s(id) ON b.block = s.id / 32 AND b.mask & (1 << (s.id % 32)) <> 0)::bigint AS scored`,
      [ids],
    );
    const stored = Number(p!.stored);
    const scored = Number(p!.scored);
    return { stored, distinct: stored, wrongValues: 0, scored, scoreRows: scored, rollupCount: 0, rollupMinutesWrong: 0, truthRanges: 0 };
  }
  const [samples] = await query<{ stored: string; distinct: string; wrong: string }>(
    url,
    `SELECT count(*)::bigint AS stored, count(DISTINCT (x.stream_id, x.ts))::bigint AS distinct,
            count(*) FILTER (WHERE x.value <> ${VALUE_SQL})::bigint AS wrong
     FROM (SELECT s.stream_id, s.ts, s.value, ((extract(epoch FROM s.ts)::bigint - $2) / ${STEP_S})::int AS r,
                  substr(st.metric, ${SOURCE.length + 2})::int AS k
           FROM sample s JOIN stream st ON st.id = s.stream_id WHERE s.stream_id = ANY($1::int[])) x`,
    [ids, BASE_S],
  );
  const [scores] = await query<{ distinct: string; rows: string }>(
    url,
    `SELECT count(DISTINCT (s.id, b.ts))::bigint AS distinct, count(*)::bigint AS rows
     FROM score_block b JOIN unnest($1::int[]) AS s(id) ON b.block = s.id / 32 AND b.mask & (1 << (s.id % 32)) <> 0`,
    [ids],
  );
  const [rollups] = await query<{ count: string; wrong: string }>(
    url,
    `SELECT coalesce(sum(count), 0)::bigint AS count, count(*) FILTER (WHERE count <> 6)::bigint AS wrong FROM sample_rollup_1m WHERE stream_id = ANY($1::int[])`,
    [ids],
  );
  const [truth] = await query<{ n: number }>(url, "SELECT count(*)::int AS n FROM stream_label WHERE origin = 'csv:is_anomaly' AND stream_id = ANY($1::int[])", [ids]);
  return {
    stored: Number(samples!.stored),
    distinct: Number(samples!.distinct),
    wrongValues: Number(samples!.wrong),
    scored: Number(scores!.distinct),
    scoreRows: Number(scores!.rows),
    rollupCount: Number(rollups!.count),
    rollupMinutesWrong: Number(rollups!.wrong),
    truthRanges: truth!.n,
  };
}

/**
 * Waits until the worker has scored everything: the counts reach the file's and stay put (more
 * samples or scores than the file holds cannot get better: that ends the wait at once).
 */
async function scoredAll(omen: NpmStart): Promise<Counts> {
  let prev = "";
  return until(
    "the worker to score every sample",
    async () => {
      const m = await measure(omen.databaseUrl(), true);
      const key = JSON.stringify(m);
      const done = m.scored === m.stored && m.stored === TOTAL && key === prev;
      prev = key;
      return done || m.stored > TOTAL || m.scored > TOTAL ? m : undefined;
    },
    300_000,
    2_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message} (last counts ${prev})\n${omen.log}`);
  });
}

/** Stops `npm start` cleanly (which writes the rollup minutes still open) and measures: on PostgreSQL at `url`, else the embedded database in `dir`. */
async function stopAndMeasure(omen: NpmStart, url: string | null, dir: string): Promise<Counts> {
  await omen.stop();
  if (url) return measure(url);
  const db = await startEmbeddedDatabase(path.join(dir, "data"));
  try {
    return await measure(db.url);
  } finally {
    await db.stop();
  }
}

const backends: Backend[] = process.env.TEST_DATABASE_URL ? ["postgres", "pglite"] : ["pglite"];

describe.each(backends)("kill -9 in the middle of a CSV import (npm start on %s)", (backend) => {
  let tdb: TestDatabase | undefined;
  let omen: NpmStart;
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "omen-csv-kill-"));
    file = path.join(dir, "history.csv");
    ensureBuilt();
    fs.writeFileSync(file, wideCsv());
    if (backend === "postgres") tdb = await createTestDatabase("postgres");
    omen = new NpmStart({ port: await freePort(), databaseUrl: tdb?.url, dataDir: path.join(dir, "data"), token: TOKEN });
  });
  afterAll(async () => {
    await omen?.stop();
    await tdb?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a re-run after restart stores and scores every row exactly once", async () => {
    await omen.start();
    // 1. the whole group killed mid-import
    const first = await importKilled(backend, file, omen, 0, "group");
    expect(first.importCode, first.importOut).not.toBe(0);
    await omen.start();
    const afterFirst = await measure(omen.databaseUrl());
    // 2. the web process alone killed mid-import: npm start stops and exits non-zero
    const second = await importKilled(backend, file, omen, await committedRows(omen), "web");
    expect(second.importCode, second.importOut).not.toBe(0);
    expect(second.startExit, omen.log).toBe(1);
    await omen.start();
    const afterSecond = await measure(omen.databaseUrl());
    // 3. the same import again, to the end
    const last = await runImport(file, omen).done;
    expect(last.code, `${last.out}\n${omen.log}`).toBe(0);
    const reported = /(\d+) new samples of (\d+)/.exec(last.out);
    // the worker scores everything: the counts reach the file's and stay put (more samples or
    // scores than the file holds cannot get better: that ends the wait at once)
    const scoring = await scoredAll(omen);
    expect(scoring, "while running").toMatchObject({ stored: TOTAL, scored: TOTAL });
    const final = await stopAndMeasure(omen, backend === "postgres" ? tdb!.url : null, dir);
    console.log(`[csv-kill ${backend}] the killed imports said:\n${first.importOut.trim()}\n${second.importOut.trim()}`);
    console.log(
      `[csv-kill ${backend}] ${TOTAL} samples in the file; stored after the group kill ${afterFirst.stored}, after the web kill ${afterSecond.stored}; ` +
        `the last run reported ${reported?.[1]} new of ${reported?.[2]}; at the end stored ${final.stored} (distinct ${final.distinct}, wrong values ${final.wrongValues}), ` +
        `scored ${final.scored} (score rows ${final.scoreRows}), rollup count ${final.rollupCount} (wrong minutes ${final.rollupMinutesWrong}), ground-truth ranges ${final.truthRanges}`,
    );
    // each kill landed in the middle of an import
    expect(afterFirst.stored).toBeGreaterThan(0);
    expect(afterSecond.stored).toBeGreaterThan(afterFirst.stored);
    expect(afterSecond.stored).toBeLessThan(TOTAL);
    // nothing half-stored: whole commits only, each sample once
    // the tool says the import was interrupted, and that running it again is the remedy
    for (const r of [first, second]) expect(r.importOut).toMatch(/lost during the import.*Run the same import again/s);
    for (const m of [afterFirst, afterSecond]) {
      expect(m.distinct).toBe(m.stored);
      expect(m.wrongValues).toBe(0);
    }
    expect(reported?.slice(1).map(Number)).toEqual([TOTAL - afterSecond.stored, TOTAL]);
    expect(final).toEqual(EXACT);
  }, 900_000);
});

describe("kill -9 of the worker alone in the middle of a CSV import (npm start on pglite)", () => {
  let omen: NpmStart;
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "omen-csv-kill-worker-"));
    file = path.join(dir, "history.csv");
    ensureBuilt();
    fs.writeFileSync(file, wideCsv());
    omen = new NpmStart({ port: await freePort(), dataDir: path.join(dir, "data"), token: TOKEN });
  });
  afterAll(async () => {
    await omen?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the import goes on, the restarted worker scores every row exactly once", async () => {
    await omen.start();
    const web = omen.childPid("web");
    const run = runImport(file, omen);
    let finished = false;
    void run.done.then(() => (finished = true));
    await until("the import to commit a slice", async () => ((await committedRows(omen)) > 0 ? true : undefined), 120_000, 5);
    const storedAtKill = (await measure(omen.databaseUrl(), true)).stored;
    expect(finished, "the import ended before the worker could be killed mid-way; raise OMEN_CSV_KILL_ROWS").toBe(false);
    await omen.killWorker();
    const done = await run.done;
    // the web process took the whole file: one run, not interrupted
    expect(done.code, `${done.out}\n${omen.log}`).toBe(0);
    expect(omen.childPid("web")).toBe(web);
    const reported = /(\d+) new samples of (\d+)/.exec(done.out);
    expect(reported?.slice(1).map(Number)).toEqual([TOTAL, TOTAL]);
    const scoring = await scoredAll(omen);
    expect(scoring, "while running").toMatchObject({ stored: TOTAL, scored: TOTAL });
    const final = await stopAndMeasure(omen, null, dir);
    console.log(
      `[csv-kill pglite, worker killed] ${TOTAL} samples in the file; ${storedAtKill} stored when the worker was killed; ` +
        `the import reported ${reported?.[1]} new of ${reported?.[2]}; at the end stored ${final.stored} (distinct ${final.distinct}, wrong values ${final.wrongValues}), ` +
        `scored ${final.scored} (score rows ${final.scoreRows}), rollup count ${final.rollupCount} (wrong minutes ${final.rollupMinutesWrong}), ground-truth ranges ${final.truthRanges}`,
    );
    expect(storedAtKill).toBeGreaterThan(0);
    expect(storedAtKill).toBeLessThan(TOTAL);
    expect(final).toEqual(EXACT);
  }, 900_000);
});
