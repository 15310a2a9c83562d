import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDeclaredKinds } from "@/lib/ingest/csv-kinds";
import { pool } from "../../db";
import { getSourceByName, updateSourceConfig } from "../../repos/sources-repo";
import { countSamples } from "../../repos/storage/samples";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { importCsv } from "./csv-import";
import { invalidateSourceCache } from "./ingest-service";

/** A wide CSV: `rows` rows of epoch seconds 10 s apart and `columns` value columns. */
function wideCsv(rows: number, columns: number, t0: number): string {
  const lines = [["timestamp", ...Array.from({ length: columns }, (_, k) => `wide_${k}`)].join(",")];
  for (let r = 0; r < rows; r++) lines.push([t0 + r * 10, ...Array.from({ length: columns }, (_, k) => (r * columns + k) / 4)].join(","));
  return `${lines.join("\n")}\n`;
}

async function storedKinds(source: string): Promise<Record<string, string>> {
  const res = await pool().query<{ key: string; kind: string }>(
    "SELECT st.key, st.kind::text AS kind FROM stream st JOIN source src ON src.id = st.source_id WHERE src.name = $1",
    [source],
  );
  return Object.fromEntries(res.rows.map((r) => [r.key, r.kind]));
}

describe.each(availableBackends())("CSV import on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  const t0 = 1_760_000_000;
  const nowMs = (t0 + 86_400) * 1000;
  const utf8 = (text: string) => new TextEncoder().encode(text);

  it("stores a file larger than one commit in full rows, every sample once, values with their times", async () => {
    // 3,000 rows × 20 columns = 60,000 samples: two commits
    const res = await importCsv("wide", utf8(wideCsv(3_000, 20, t0)), nowMs);
    expect(res).toMatchObject({ rows: 3_000, series: 20, newStreams: 20, received: 60_000, inserted: 60_000, refused: 0 });
    expect(await countSamples()).toBe(60_000);
    // one row per timestamp and block of 32 streams: a commit holds all streams of its times
    const blocks = await pool().query<{ n: number }>("SELECT count(DISTINCT id / 32)::int AS n FROM stream WHERE metric LIKE 'wide_%'");
    const rows = await pool().query<{ rows: number; ts: number }>("SELECT count(*)::int AS rows, count(DISTINCT ts)::int AS ts FROM sample_block");
    expect(rows.rows[0]).toEqual({ rows: 3_000 * blocks.rows[0]!.n, ts: 3_000 });
    const check = await pool().query<{ n: number; bad: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE s.value <> ((extract(epoch FROM s.ts)::bigint - $1) / 10 * 20 + substr(st.metric, 6)::int) / 4.0)::int AS bad
       FROM sample s JOIN stream st ON st.id = s.stream_id WHERE st.metric LIKE 'wide_%'`,
      [t0],
    );
    expect(check.rows[0]).toEqual({ n: 60_000, bad: 0 });
    // importing the file again stores nothing twice
    expect(await importCsv("wide", utf8(wideCsv(3_000, 20, t0)), nowMs)).toMatchObject({ received: 60_000, inserted: 0 });
    expect(await countSamples()).toBe(60_000);
  });

  it("creates a cumulative column as a counter and a wandering one as a gauge; an existing stream keeps its kind", async () => {
    const lines = ["timestamp,requests_served,cpu_pct,errors_total"];
    for (let r = 0; r < 120; r++) {
      // the request total restarts at row 60 (a deploy); `errors_total` holds counts per row, no total
      const served = r < 60 ? 5_000 + 40 * r : 40 * (r - 59);
      lines.push([t0 + 40_000 + r * 60, served, 50 + 10 * Math.sin(r / 3), 3 + (r % 5)].join(","));
    }
    const file = utf8(`${lines.join("\n")}\n`);
    const expected = [
      { key: "requests_served", kind: "counter", kindFrom: "values" },
      { key: "cpu_pct", kind: "gauge", kindFrom: "values" },
      { key: "errors_total", kind: "gauge", kindFrom: "values" },
    ];
    // the check reports what the import will create, and stores nothing
    const dry = await importCsv("kinds", file, nowMs, { dryRun: true });
    expect(dry.streams).toMatchObject(expected);
    expect(await storedKinds("kinds")).toEqual({});
    const res = await importCsv("kinds", file, nowMs);
    expect(res.streams).toMatchObject(expected);
    expect(await storedKinds("kinds")).toEqual({ requests_served: "counter", cpu_pct: "gauge", errors_total: "gauge" });
    // a later file in which cpu_pct only rises (new, it would be a counter) and a new `_total`
    // column of 10 rows appears: cpu_pct stays a gauge, the new column is a counter by its name
    // (too short for its values to decide)
    const more = ["timestamp,cpu_pct,jobs_total", ...Array.from({ length: 40 }, (_, r) => `${t0 + 50_000 + r * 60},${r},${r < 10 ? 3 * r : ""}`)].join("\n");
    const again = await importCsv("kinds", utf8(more), nowMs);
    expect(again.streams).toMatchObject([
      { key: "cpu_pct", kind: "gauge", kindFrom: "stored" },
      { key: "jobs_total", kind: "counter", kindFrom: "name" },
    ]);
    expect(await storedKinds("kinds")).toMatchObject({ cpu_pct: "gauge", jobs_total: "counter" });
    // a declared kind wins over the values for a new stream; an existing stream keeps its own
    const declared = await importCsv("kinds-declared", file, nowMs, { kinds: parseDeclaredKinds('{"requests_served":"gauge","cpu_pct":"counter"}') });
    expect(declared.streams).toMatchObject([
      { key: "requests_served", kind: "gauge", kindFrom: "declared" },
      { key: "cpu_pct", kind: "counter", kindFrom: "declared" },
      { key: "errors_total", kind: "gauge", kindFrom: "values" },
    ]);
    expect(await storedKinds("kinds-declared")).toEqual({ requests_served: "gauge", cpu_pct: "counter", errors_total: "gauge" });
    expect((await importCsv("kinds", utf8(more), nowMs, { kinds: parseDeclaredKinds('{"cpu_pct":"counter"}') })).streams[0]).toMatchObject({ kind: "gauge", kindFrom: "stored" });
    expect(await storedKinds("kinds")).toMatchObject({ cpu_pct: "gauge" });
  });

  it("refuses a column name PostgreSQL text cannot hold (a NUL) with a 400, storing nothing", async () => {
    // found by the ingest fuzz (seed 2699577499): the kinds' lookup of existing streams sent the
    // name to the database and failed the request with a 500
    const before = await countSamples();
    await importCsv("nul-name", utf8(`timestamp,ok_metric\n${t0},1\n`), nowMs);
    await expect(importCsv("nul-name", utf8(`timestamp,fuzz_mu\u0000\n${t0},1\n`), nowMs)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await countSamples()).toBe(before + 1);
  });

  it("the dry run (the upload's check step) refuses a column name the import refuses, with the same 400 and message", async () => {
    // it listed the column as a stream it would create, and the import then failed on it
    const nul = utf8(`timestamp,ok_metric,fuzz_mu\u0000\n${t0},1,2\n`);
    const imported = await importCsv("nul-check", nul, nowMs).catch((e: unknown) => e);
    const checked = await importCsv("nul-check", nul, nowMs, { dryRun: true }).catch((e: unknown) => e);
    expect(imported).toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/Nothing from this request was stored/) });
    expect(checked).toMatchObject({ code: "BAD_REQUEST" });
    expect((checked as Error).message).toBe((imported as Error).message);
    // a label value (long layout: `stream` names metric{labels}, the value JSON-quoted) is checked the same way
    const label = utf8(`timestamp,stream,value\n${t0},"cpu{host=""a\\u0000""}",1\n`);
    const labelImported = await importCsv("nul-check", label, nowMs).catch((e: unknown) => e);
    const labelChecked = await importCsv("nul-check", label, nowMs, { dryRun: true }).catch((e: unknown) => e);
    expect(labelImported).toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^Series cpu: the value of label "host" holds a NUL character/) });
    expect((labelChecked as Error).message).toBe((labelImported as Error).message);
  });

  it("the dry run refuses new streams over the source's cardinality limit with the import's 400, and creates no source", async () => {
    // it listed them all; the import then refused the file
    const wide = (n: number, prefix: string) => utf8(`timestamp,${Array.from({ length: n }, (_, k) => `${prefix}${k}`).join(",")}\n${t0},${Array(n).fill(1).join(",")}\n`);
    const fresh = wide(10_001, "card_");
    const checked = await importCsv("card-new", fresh, nowMs, { dryRun: true }).catch((e: unknown) => e);
    expect(checked).toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^Too many series for source "card-new": it has 0 streams and this request adds 10001 new ones, over its cardinality limit of 10000\./) });
    expect(await getSourceByName("card-new")).toBeNull();
    const imported = await importCsv("card-new", fresh, nowMs).catch((e: unknown) => e);
    expect((imported as Error).message).toBe((checked as Error).message);
    // an existing source with its own limit: streams it has already do not count as new
    await importCsv("card-own", wide(2, "own_"), nowMs);
    await updateSourceConfig((await getSourceByName("card-own"))!.id, { cardinalityLimit: 3 });
    invalidateSourceCache();
    await expect(importCsv("card-own", wide(3, "own_"), nowMs, { dryRun: true })).resolves.toMatchObject({ series: 3 });
    const over = await importCsv("card-own", wide(4, "own_"), nowMs, { dryRun: true }).catch((e: unknown) => e);
    expect(over).toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/it has 2 streams and this request adds 2 new ones, over its cardinality limit of 3/) });
    expect((await importCsv("card-own", wide(4, "own_"), nowMs).catch((e: unknown) => e) as Error).message).toBe((over as Error).message);
  });

  it("imports and checks columns named like Object properties (constructor, toString, __proto__) as streams (the import was a 500)", async () => {
    // `name in {}` found Object.prototype.constructor as a declared kind; PostgreSQL refused it
    const text = utf8(`timestamp,constructor,toString,__proto__\n${t0},1,2,3\n`);
    const checked = await importCsv("proto-names", text, nowMs, { dryRun: true });
    expect(checked.streams.map((s) => `${s.key}/${s.kind}`)).toEqual(["constructor/gauge", "toString/gauge", "__proto__/gauge"]);
    await expect(importCsv("proto-names", text, nowMs)).resolves.toMatchObject({ newStreams: 3, inserted: 3 });
    expect(Object.entries(await storedKinds("proto-names")).sort()).toEqual([["__proto__", "gauge"], ["constructor", "gauge"], ["toString", "gauge"]]);
  });

  it("the check reports the samples the import stores when a stream repeats a time, and both name how many repeats are skipped", async () => {
    // the check counted 3 samples at t0 and the import stored 1, without a word about the other 2
    const file = utf8(`timestamp,dup_a,dup_b\n${t0 + 60_000},1,10\n${t0 + 60_000},2,\n${t0 + 60_000},3,30\n${t0 + 60_010},4,40\n`);
    const expected = {
      duplicates: 3,
      duplicateExamples: [
        "dup_a at 2025-10-10T01:33:20.000Z: 3 samples, the first in the file kept",
        "dup_b at 2025-10-10T01:33:20.000Z: 2 samples, the first in the file kept",
      ],
      streams: [
        { key: "dup_a", samples: 2 },
        { key: "dup_b", samples: 2 },
      ],
    };
    const before = await countSamples();
    const checked = await importCsv("dups", file, nowMs, { dryRun: true });
    expect(checked).toMatchObject(expected);
    const imported = await importCsv("dups", file, nowMs);
    expect(imported).toMatchObject({ ...expected, received: 4, inserted: 4 });
    expect(await countSamples()).toBe(before + 4);
    // what is stored is unchanged: the first sample of each (stream, time) in the file
    const stored = await pool().query<{ metric: string; value: number }>(
      "SELECT st.metric, s.value FROM sample s JOIN stream st ON st.id = s.stream_id WHERE st.metric LIKE 'dup_%' ORDER BY st.metric, s.ts",
    );
    expect(stored.rows.map((r) => `${r.metric}=${r.value}`)).toEqual(["dup_a=1", "dup_a=4", "dup_b=10", "dup_b=40"]);
    // importing it again: nothing new, the same repeats named
    expect(await importCsv("dups", file, nowMs)).toMatchObject({ ...expected, received: 4, inserted: 0 });
  });

  it('a kinds entry keyed "__proto__" declares the stream named __proto__, or is refused when the file has none (it was ignored)', async () => {
    const file = utf8(`timestamp,__proto__,other\n${t0 + 61_000},5,1\n${t0 + 61_010},3,2\n`);
    const kinds = parseDeclaredKinds('{"__proto__":"counter"}');
    const checked = await importCsv("proto-kinds", file, nowMs, { dryRun: true, kinds });
    expect(checked.streams.map((s) => `${s.key}/${s.kind}/${s.kindFrom}`)).toEqual(["__proto__/counter/declared", "other/gauge/values"]);
    await importCsv("proto-kinds", file, nowMs, { kinds });
    expect(await storedKinds("proto-kinds")).toEqual({ ["__proto__"]: "counter", other: "gauge" });
    const without = utf8(`timestamp,other\n${t0 + 61_020},3\n`);
    for (const dryRun of [true, false]) {
      await expect(importCsv("proto-kinds-none", without, nowMs, { dryRun, kinds })).rejects.toMatchObject({
        code: "BAD_REQUEST",
        message: 'kinds names "__proto__", which the file has no stream of. Nothing from this file was stored.',
      });
    }
    expect(await getSourceByName("proto-kinds-none")).toBeNull();
  });

  it("a raw control character in a quoted label value is a 400 naming its line, column and character and how to write it, from the check and the import", async () => {
    const before = await countSamples();
    const file = utf8(`timestamp,stream,value\n${t0 + 62_000},ok_ctl,1\n${t0 + 62_000},"cpu{host=""a\u0001b""}",1\n`);
    const message = String.raw`CSV line 3, column 2: stream "cpu{host="a\u0001b"}": the value of label "host" holds a raw control character (U+0001) at character 12 of the stream name. Label values are written as JSON strings: write it as \u0001 or remove it. Nothing from this file was stored.`;
    for (const dryRun of [true, false]) {
      await expect(importCsv("ctl-label", file, nowMs, { dryRun })).rejects.toMatchObject({ code: "BAD_REQUEST", message });
    }
    expect(await countSamples()).toBe(before);
  });

  it("refuses a file with a syntax error after many good lines, storing nothing", async () => {
    const before = await countSamples();
    const good = wideCsv(2_000, 3, t0 + 100_000);
    await expect(importCsv("broken", utf8(`${good}${t0 + 200_000},1,"2,3\n${t0 + 200_010},4,5,6\n`), nowMs)).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/CSV is malformed.*Nothing from this file was stored/),
    });
    expect(await countSamples()).toBe(before);
  });
});
