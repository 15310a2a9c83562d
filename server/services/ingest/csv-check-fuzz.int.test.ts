import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "@/lib/detectors/rng";
import { isAppError } from "@/lib/errors/app-error";
import { parseDeclaredKinds } from "@/lib/ingest/csv-kinds";
import { chooseFuzzSeed, headCommit } from "../../testing/fuzz-seed";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { importCsv, type CsvImportResult } from "./csv-import";
import { invalidateSourceCache } from "./ingest-service";

/**
 * Seeded fuzz of the CSV check (the upload's dry run) against the import itself, on each
 * database: hostile column and stream names (Object property names, label syntax, NUL, raw
 * control characters, over-long, one stream spelled two ways), huge and non-finite values,
 * duplicate, future and out-of-range timestamps, and sometimes declared kinds (`__proto__` too).
 * Each file is checked, then imported into the same fresh source. Neither may fail other than
 * with a 4xx AppError (a 500 is a failure), and they must agree: the check refuses exactly what
 * the import refuses, with the same message, and lists the streams the import creates, with the
 * samples it stores. The seed follows the commit (server/testing/fuzz-seed.ts); OMEN_FUZZ_SEED=N
 * reproduces a run, OMEN_CSV_FUZZ_FILES changes the count.
 */
const { seed: SEED, from: SEED_FROM } = chooseFuzzSeed(process.env.OMEN_FUZZ_SEED, headCommit(path.resolve(import.meta.dirname, "../../..")));
const FILES = Number(process.env.OMEN_CSV_FUZZ_FILES ?? 150);

const NAMES = [
  "constructor", "toString", "__proto__", "hasOwnProperty", "valueOf", "value", "is_anomaly", "label", "stream", "timestamp",
  "a b", "é", "😀", "1abc", ":", "a/b", "a.b", "a-b", "a\u0000b", "x".repeat(250), '"quoted"',
  'm{a="1"}', 'm{b="2",a="1"}', 'm{a="1",b="2"}', 'm{a="1",a="2"}', 'm{__proto__="x"}', 'm{__name__="q"}', 'm{a="\\u0000"}', 'm{a="\\x"}', 'm{a="\u0001"}', 'm{a="x\ty"}', "m{a=1}", "m{", "m}",
];
const KIND_KEYS = ["__proto__", "constructor", "fz_0", "fz_1", "value", "m"];
const VALUES = ["1", "-2.5", "1e400", "-1e400", "1.7976931348623157e308", "-1.7976931348623157e308", "5e-324", "1e-400", "NaN", "inf", "-Infinity", "+.5", "5.", "-0", " 7 ", "", "0x10", "1,5", "abc"];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

/** A CSV cell: quoted when it holds a comma, a quote or a line break. */
const cell = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

function timestamp(rng: Rng, nowMs: number, previous: string | null): string {
  const s = Math.floor(nowMs / 1000);
  const r = rng.next();
  if (previous !== null && r < 0.2) return previous; // a duplicate time
  if (r < 0.8) return String(s - 3600 + rng.int(3600));
  return pick(rng, [
    String(nowMs - rng.int(3_600_000)),
    new Date(nowMs - rng.int(3_600_000)).toISOString(),
    new Date(nowMs + 86_400_000).toISOString(),
    String(s + 10 * 365 * 86_400),
    "+275760-09-13T00:00:00Z",
    "8640000000000000",
    "8640000000000001",
    "-1",
    "0",
    "1969-12-31T23:59:59Z",
    "99999999999",
    "100000000000",
    "2026-02-30T00:00:00Z",
    "2026-12-07 10:00:00",
    "1e20",
    "noon",
  ]);
}

function hostileFile(rng: Rng, nowMs: number): string {
  const rows = 1 + rng.int(12);
  let previous: string | null = null;
  const ts = () => (previous = timestamp(rng, nowMs, previous));
  const value = () => (rng.next() < 0.85 ? pick(rng, VALUES.slice(0, 16)) : pick(rng, VALUES));
  const name = () => (rng.next() < 0.5 ? `fz_${rng.int(4)}` : pick(rng, NAMES));
  if (rng.next() < 0.35) {
    const lines = Array.from({ length: rows }, () => [ts(), cell(name()), value()].join(","));
    return ["timestamp,stream,value", ...lines].join("\n");
  }
  const columns = Array.from({ length: 1 + rng.int(5) }, name);
  const lines = Array.from({ length: rows }, () => [ts(), ...columns.map(value)].join(","));
  return [["timestamp", ...columns.map(cell)].join(","), ...lines].join(rng.next() < 0.2 ? "\r\n" : "\n");
}

type Outcome = { ok: true; result: CsvImportResult } | { ok: false; status: number; message: string };

async function outcome(run: () => Promise<CsvImportResult>): Promise<Outcome> {
  try {
    return { ok: true, result: await run() };
  } catch (e) {
    // anything but an AppError is a 500 at the route
    if (!isAppError(e)) return { ok: false, status: 500, message: (e as Error).stack ?? String(e) };
    return { ok: false, status: e.status, message: e.message };
  }
}

describe.each(availableBackends())("CSV check fuzz on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  it(`${FILES} hostile files: the check and the import answer 4xx or succeed, and agree (seed ${SEED} from ${SEED_FROM}; reproduce: OMEN_FUZZ_SEED=${SEED})`, async () => {
    const rng = new Rng(SEED);
    const nowMs = Date.now();
    const tally = { imported: 0, refused: 0 };
    for (let i = 0; i < FILES; i++) {
      const text = hostileFile(rng, nowMs);
      const body = new TextEncoder().encode(text);
      const source = `fuzz-${i}`;
      // declared kinds, sometimes: for a stream of the file or none of it, `__proto__` among them
      const declared = rng.next() < 0.25 ? `{${JSON.stringify(pick(rng, KIND_KEYS))}:"counter"}` : null;
      const kinds = declared === null ? undefined : parseDeclaredKinds(declared);
      const checked = await outcome(() => importCsv(source, body, nowMs, { dryRun: true, kinds }));
      const imported = await outcome(() => importCsv(source, body, nowMs, { kinds }));
      const where = `file ${i} (seed ${SEED}${declared ? `, kinds ${declared}` : ""}):\n${text.slice(0, 600)}`;
      for (const o of [checked, imported]) if (!o.ok) expect(o.status, `${where}\n→ ${o.message}`).toBeLessThan(500);
      expect(checked.ok ? "accepted" : checked.message, `the check and the import of ${where}`).toBe(imported.ok ? "accepted" : imported.message);
      if (checked.ok && imported.ok) {
        expect(checked.result.streams.map((s) => `${s.key}/${s.kind}`), where).toEqual(imported.result.streams.map((s) => `${s.key}/${s.kind}`));
        expect(checked.result.refused, where).toBe(imported.result.refused);
        // the check's samples are what the import stores (a fresh source: every stored one is new),
        // repeated times left out of both and counted alike
        expect(checked.result.streams.map((s) => s.samples), where).toEqual(imported.result.streams.map((s) => s.samples));
        expect(imported.result.inserted, where).toBe(checked.result.streams.reduce((n, s) => n + s.samples, 0));
        expect(imported.result.received, where).toBe(imported.result.inserted);
        expect(checked.result.duplicates, where).toBe(imported.result.duplicates);
        expect(imported.result.newStreams, where).toBe(new Set(imported.result.streams.map((s) => s.key)).size);
        tally.imported++;
      } else tally.refused++;
    }
    console.log(`CSV check fuzz on ${backend}: ${FILES} files (seed ${SEED}), ${tally.imported} imported, ${tally.refused} refused with a 4xx by both`);
    // the generator must exercise both answers, or it tests nothing
    expect(tally.imported).toBeGreaterThan(FILES / 10);
    expect(tally.refused).toBeGreaterThan(FILES / 10);
  });
});
