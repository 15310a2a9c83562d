import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { countSamples, readSeries } from "../../repos/storage/samples";
import { rollupPending } from "../../repos/storage/rollup";
import { pool } from "../../db";
import { listStreams } from "../../repos/streams-repo";
import { ensureSource, updateSourceConfig } from "../../repos/sources-repo";
import { ingestSeries, invalidateSourceCache } from "./ingest-service";

describe.each(availableBackends())("ingestSeries on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  const now = Date.UTC(2026, 10, 23, 12, 0, 0);
  const series = (n: number, base = 0) => ({
    metric: "http_requests",
    labels: { job: "api", instance: `i${n}` },
    kind: "gauge" as const,
    tsMs: [now - 20_000, now - 10_000, now],
    values: [base + 1, base + 2, base + 3],
  });

  it("commits samples, creates streams by sorted-label identity and is idempotent on re-send", async () => {
    const r1 = await ingestSeries("test", "remote_write", [series(1), series(2)], now);
    expect(r1).toMatchObject({ series: 2, newStreams: 2, received: 6, inserted: 6 });
    const again = await ingestSeries("test", "remote_write", [series(1), series(2)], now);
    expect(again).toMatchObject({ newStreams: 0, received: 6, inserted: 0 });
    expect(await countSamples()).toBe(6);
    const streams = await listStreams({ search: "http_requests" });
    expect(streams.map((s) => s.key).sort()).toEqual(['http_requests{instance="i1",job="api"}', 'http_requests{instance="i2",job="api"}']);
    const pts = await readSeries(streams[0]!.id, now - 60_000, now + 1);
    expect(pts.map((p) => p.v)).toEqual([1, 2, 3]);
  });

  it("folds committed samples into the 1-minute rollup once, in commit order", async () => {
    expect(await rollupPending()).toBe(6);
    expect(await rollupPending()).toBe(0);
    const r = await pool().query<{ n: number; c: number; s: number }>("SELECT count(*)::int AS n, sum(count)::int AS c, sum(sum)::float8 AS s FROM sample_rollup_1m");
    expect(r.rows[0]).toEqual({ n: 4, c: 6, s: 12 }); // 2 streams × 2 minutes
  });

  it("stores non-finite values, refuses only the samples out of the time bounds", async () => {
    const before = await countSamples();
    const odd = { ...series(3), values: [1, Number.NaN, Infinity] };
    const r = await ingestSeries("test", "remote_write", [odd], now);
    expect(r).toMatchObject({ received: 3, inserted: 3, refused: 0 });
    const mixed = { ...series(5), tsMs: [now - 1000, now + 3_600_000, -5], values: [1, 2, 3] };
    const r2 = await ingestSeries("test", "remote_write", [mixed], now);
    expect(r2).toMatchObject({ received: 1, inserted: 1, refused: 2 });
    expect(r2.refusedExamples).toEqual([
      `http_requests{instance="i5",job="api"}: timestamp ${new Date(now + 3_600_000).toISOString()} is more than 10 minutes in the future (check the sender's clock)`,
      `http_requests{instance="i5",job="api"}: timestamp 1969-12-31T23:59:59.995Z is before 1970`,
    ]);
    expect(await countSamples()).toBe(before + 4);
  });

  it("poison: three max-double samples on one stream neither overflow the rollup nor the chart queries", async () => {
    const m = Number.MAX_VALUE;
    const poison = { metric: "poison", labels: {}, kind: "gauge" as const, tsMs: [now - 3000, now - 2000, now - 1000, now - 500], values: [m, m, m, 7] };
    await ingestSeries("test", "remote_write", [poison, { ...poison, metric: "poison_neg", values: [-m, -m, -Infinity, 7] }], now);
    await expect(rollupPending()).resolves.toBeGreaterThan(0);
    // a second pass over the same minute merges into the existing rows (the upsert path)
    await ingestSeries("test", "remote_write", [{ ...poison, tsMs: [now - 100], values: [m] }], now);
    await expect(rollupPending()).resolves.toBe(1);
    const rows = await pool().query<{ metric: string; min: number; max: number; sum: number; count: number }>(
      "SELECT s.metric, r.min, r.max, r.sum, r.count FROM sample_rollup_1m r JOIN stream s ON s.id = r.stream_id WHERE s.metric LIKE 'poison%' ORDER BY 1",
    );
    expect(rows.rows).toEqual([
      { metric: "poison", min: 7, max: 7, sum: 7, count: 1 },
      { metric: "poison_neg", min: 7, max: 7, sum: 7, count: 1 },
    ]);
    const [stream] = await listStreams({ search: "poison" });
    const raw = await readSeries(stream!.id, now - 60_000, now + 1);
    expect(raw.every((p) => p.v === null || Number.isFinite(p.v))).toBe(true);
    await expect(readSeries(stream!.id, now - 86_400_000, now + 1)).resolves.toBeDefined();
  });

  it("enforces the per-source cardinality cap with a clear message", async () => {
    const src = (await listStreams({ search: "http_requests" }))[0]!;
    await updateSourceConfig(src.sourceId, { cardinalityLimit: 3 });
    invalidateSourceCache();
    await expect(ingestSeries("test", "remote_write", [series(7), series(8)], now)).rejects.toThrow(/cardinality limit of 3/);
    // Existing series keep flowing while the cap blocks only new ones.
    const ok = await ingestSeries("test", "remote_write", [{ ...series(1), tsMs: [now + 1000], values: [9] }], now + 1000);
    expect(ok.inserted).toBe(1);
  });

  it("group-commits concurrent requests and credits each new sample once", async () => {
    const before = await countSamples();
    const mk = (inst: string, t0: number) => [{ ...series(0), labels: { job: "gc", instance: inst }, tsMs: [t0, t0 + 1000], values: [1, 2] }];
    const results = await Promise.all([
      ingestSeries("gc", "remote_write", mk("a", now - 50_000), now),
      ingestSeries("gc", "remote_write", mk("a", now - 49_000), now), // overlaps one sample with the first
      ingestSeries("gc", "remote_write", mk("b", now - 50_000), now),
    ]);
    expect(results.reduce((a, r) => a + r.inserted, 0)).toBe(5);
    expect(results.map((r) => r.received)).toEqual([2, 2, 2]);
    expect(await countSamples()).toBe(before + 5);
  });

  it("creates a new source once when many requests name it at the same moment", async () => {
    const all = await Promise.all(Array.from({ length: 20 }, () => ensureSource("first-use", "remote_write", { note: "x" })));
    expect(new Set(all.map((s) => s.id)).size).toBe(1);
    expect(all[0]).toMatchObject({ name: "first-use", kind: "remote_write", enabled: true, config: { note: "x" }, cardinalityLimit: 10_000 });
  });

  it("keeps the cap under concurrent requests that each add new series", async () => {
    const src = await ensureSource("race", "remote_write", {}, 5);
    invalidateSourceCache();
    const batch = (from: number) => [0, 1, 2].map((i) => ({ ...series(from + i), metric: "race_metric" }));
    const results = await Promise.allSettled([ingestSeries("race", "remote_write", batch(10), now), ingestSeries("race", "remote_write", batch(20), now)]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect((await listStreams({ sourceId: src.id })).length).toBe(3);
  });
});
