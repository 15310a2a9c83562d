import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";
import { pool } from "../../db";
import { listAnomalies, upsertAnomalies } from "../../repos/anomalies-repo";
import { rollupPending } from "../../repos/storage/rollup";
import { getSourceByName } from "../../repos/sources-repo";
import { getStream, listStreams, upsertStreamHealth } from "../../repos/streams-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { DetectPipeline } from "../../worker/pipeline/detect-pipeline";
import { ConfigReloader } from "../config/config-reload";
import { effectiveSettingsByStream } from "../config/config-service";
import { createEngine, withSettings } from "../detection/engine-adapter";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { archiveSource, listSourceViews, removeSource } from "../sources/source-service";
import { archiveStream, deleteStream } from "./stream-lifecycle";

/** Stored samples / scores / 1-minute rollups of one stream, straight from the tables. */
async function stored(id: number) {
  const q = async (sql: string) => Number((await pool().query<{ n: string }>(sql, [id])).rows[0]!.n);
  return {
    samples: await q("SELECT count(*) AS n FROM sample WHERE stream_id = $1"),
    scores: await q(`SELECT count(*) AS n FROM score_block WHERE block = $1 / 32 AND mask & (1 << ($1 % 32)) <> 0`),
    rollups: await q("SELECT count(*) AS n FROM sample_rollup_1m WHERE stream_id = $1") + (await q("SELECT count(*) AS n FROM score_rollup_1m WHERE stream_id = $1")),
  };
}

describe.each(availableBackends())("deleting and archiving streams and sources on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  const step = 10_000;
  const t0 = Date.UTC(2026, 9, 5, 0, 0, 0);
  const n = 600;
  const spikeAt = 500;
  const series = (from: number, to: number, spike: boolean) => {
    const tsMs = Array.from({ length: to - from }, (_, k) => t0 + (from + k) * step);
    const v = (i: number) => (spike && i >= spikeAt && i < spikeAt + 4 ? 400 : 100 + 3 * noise(i));
    // three streams of one source: consecutive ids, so they share sample and score block rows
    return ["a", "b", "c"].map((name) => ({ metric: "disk_io", labels: { dev: name }, kind: "gauge" as const, tsMs, values: tsMs.map((_, k) => v(from + k) + (name === "c" ? 50 : 0)) }));
  };
  const now = t0 + 10 * n * step;

  async function score(pipeline: DetectPipeline, reloader: ConfigReloader) {
    await reloader.run();
    while ((await pipeline.tick(now)) > 0) {
      /* next batch */
    }
    await pipeline.tick(now);
    await pipeline.drain();
    await rollupPending();
    await pipeline.flushScoreMinutes();
  }

  it("delete removes one stream's samples, scores, rollups and anomalies, keeps its block neighbours', and the worker carries on", async () => {
    await ingestSeries("disks", "remote_write", series(0, n, true), now);
    const engine = withSettings(createEngine());
    const pipeline = new DetectPipeline(engine, 0, step, 5_000);
    const forgotten: number[] = [];
    const reloader = new ConfigReloader(engine, null, () => undefined, (ids) => {
      forgotten.push(...ids);
      pipeline.forgetStreams(ids);
    });
    await score(pipeline, reloader);
    const [a, b, c] = await listStreams({ search: "disk_io" });
    expect([a, b, c].map((s) => s!.labels.dev)).toEqual(["a", "b", "c"]);
    const before = await stored(b!.id);
    expect(before.samples).toBe(n);
    expect(before.scores).toBe(n);
    expect(before.rollups).toBeGreaterThan(0);
    expect((await listAnomalies({ streamId: a!.id })).total).toBeGreaterThan(0);

    const res = await deleteStream(a!.id);
    expect(res).toMatchObject({ key: a!.key, streams: 1, samples: n, scores: n });
    expect(res.anomalies).toBeGreaterThan(0);
    expect(await stored(a!.id)).toEqual({ samples: 0, scores: 0, rollups: 0 });
    expect(await stored(b!.id)).toEqual(before);
    expect(await getStream(a!.id)).toBeNull();
    expect((await listAnomalies({ streamId: a!.id })).total).toBe(0);
    expect((await listAnomalies({ streamId: b!.id })).total).toBeGreaterThan(0);

    // the worker forgets it at its next reload; writes still in flight for it are dropped, not retried forever
    await reloader.run();
    expect(forgotten).toEqual([a!.id]);
    expect(engine.hasStream(a!.id)).toBe(false);
    await upsertAnomalies([{ engineId: "gone-1", streamId: a!.id, streamIds: [a!.id], startMs: t0, endMs: null, peakScore: 90, severity: "high", type: "point", explanation: {} }]);
    await upsertStreamHealth([{ id: a!.id, health: 1, availability: 1, gapClass: null }]);
    // later samples: the remaining streams are scored on; the deleted name comes back as a new stream
    await ingestSeries("disks", "remote_write", series(n, n + 60, false), now);
    await score(pipeline, reloader);
    expect((await stored(b!.id)).scores).toBe(n + 60);
    const back = (await listStreams({ search: 'disk_io{dev="a"}' }))[0]!;
    expect(back.id).not.toBe(a!.id);
    expect((await stored(back.id)).samples).toBe(60);
    expect((await stored(a!.id)).samples).toBe(0);
  });

  it("archive hides a stream, stops it raising anomalies, keeps and extends its history; restore brings it back", async () => {
    const [, b] = await listStreams({ search: "disk_io" });
    const anomaliesBefore = (await listAnomalies({ streamId: b!.id })).total;
    await archiveStream(b!.id, true);
    expect((await listStreams({ search: "disk_io" })).map((s) => s.id)).not.toContain(b!.id);
    expect((await listStreams({ search: "disk_io", archived: true })).map((s) => s.id)).toEqual([b!.id]);
    expect((await getStream(b!.id))!.archivedAtMs).not.toBeNull();
    expect((await effectiveSettingsByStream()).streams.get(b!.id)!.enabled).toBe(false);

    // a spike after archiving: stored and scored, but no anomaly (so no alert)
    const engine = withSettings(createEngine());
    const pipeline = new DetectPipeline(engine, 0, step, 5_000);
    const reloader = new ConfigReloader(engine, null, () => undefined);
    const later = (from: number) => series(from, from + 200, true).map((s) => ({ ...s, tsMs: s.tsMs.map((t) => t + 400 * step), values: s.values.map((v, k) => (k >= 150 && k < 154 ? 900 : v)) }));
    await ingestSeries("disks", "remote_write", later(n + 60), now);
    await score(pipeline, reloader);
    const samples = (await stored(b!.id)).samples;
    expect(samples).toBe(n + 60 + 200);
    expect((await listAnomalies({ streamId: b!.id })).total).toBe(anomaliesBefore);
    expect(engine.suppressed.disabled).toBeGreaterThan(0);

    await archiveStream(b!.id, false);
    expect((await listStreams({ search: "disk_io" })).map((s) => s.id)).toContain(b!.id);
    expect((await effectiveSettingsByStream()).streams.get(b!.id)!.enabled).toBe(true);
    expect((await stored(b!.id)).samples).toBe(samples);
  });

  it("a source archives with all its streams, and deleting it removes their stored data", async () => {
    const src = (await getSourceByName("disks"))!;
    await archiveSource(src.id, true);
    expect(await listStreams({ search: "disk_io" })).toEqual([]);
    expect((await listSourceViews()).find((s) => s.id === src.id)!.archivedAtMs).not.toBeNull();
    const ids = (await listStreams({ search: "disk_io", archived: true })).map((s) => s.id);
    expect(ids.length).toBe(3);
    await archiveSource(src.id, false);
    expect((await listStreams({ search: "disk_io" })).length).toBe(3);

    expect(await removeSource(src.id)).toEqual({ name: "disks", streams: 3 });
    for (const id of ids) expect(await stored(id)).toEqual({ samples: 0, scores: 0, rollups: 0 });
    expect(Number((await pool().query<{ n: string }>("SELECT count(*) AS n FROM sample_block")).rows[0]!.n)).toBe(0);
    await expect(archiveSource(src.id, true)).rejects.toThrow(/does not exist/);
    await expect(deleteStream(ids[0]!)).rejects.toThrow(/does not exist/);
  });
});
