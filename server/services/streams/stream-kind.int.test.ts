import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors/app-error";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";
import { getStream, listStreams } from "../../repos/streams-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { DetectPipeline } from "../../worker/pipeline/detect-pipeline";
import { ConfigReloader } from "../config/config-reload";
import { createEngine, restoreEngine, withSettings, type ConfiguredEngine } from "../detection/engine-adapter";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { changeStreamKind } from "./stream-lifecycle";

describe.each(availableBackends())("changing a stream's kind on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  const step = 10_000;
  const t0 = Date.UTC(2026, 9, 5, 0, 0, 0);
  // a cumulative byte count (≈ 50 bytes/s) under a name the counter rule does not know
  const level = (i: number) => 1e6 + 50 * (step / 1000) * i + 20 * noise(i);
  const series = (from: number, to: number) => {
    const tsMs = Array.from({ length: to - from }, (_, k) => t0 + (from + k) * step);
    return [{ metric: "disk_written", labels: { dev: "sda" }, kind: "gauge" as const, tsMs, values: tsMs.map((_, k) => level(from + k)) }];
  };

  async function score(pipeline: DetectPipeline, reloader: ConfigReloader, now: number) {
    await reloader.run();
    while ((await pipeline.tick(now)) > 0) {
      /* next batch */
    }
    await pipeline.tick(now);
    await pipeline.drain();
  }

  /** The next step's forecast: about 50 (bytes/s) when scored as a counter, about the level as a gauge. */
  const nextExpected = (engine: ConfiguredEngine, id: number) => {
    const f = engine.forecast(id, step);
    expect(f).not.toBeNull();
    return f!.expected[0]!;
  };

  it("the worker rescores the stream as the new kind from its next config reload, also when restored from an older snapshot", async () => {
    let now = t0 + 400 * step;
    await ingestSeries("disks", "remote_write", series(0, 300), now);
    const engine = withSettings(createEngine());
    const pipeline = new DetectPipeline(engine, 0, step, 5_000);
    const reloader = new ConfigReloader(engine, null, () => undefined);
    await score(pipeline, reloader, now);
    const [s] = await listStreams({ search: "disk_written" });
    expect(s!.kind).toBe("gauge");
    expect(nextExpected(engine, s!.id)).toBeGreaterThan(1e6);
    const before = engine.serialize();

    expect(await changeStreamKind(s!.id, "counter")).toEqual({ key: s!.key, kind: "counter", previous: "gauge" });
    expect((await getStream(s!.id))!.kind).toBe("counter");
    now = t0 + 700 * step;
    await ingestSeries("disks", "remote_write", series(300, 600), now);
    await score(pipeline, reloader, now);
    expect(nextExpected(engine, s!.id)).toBeGreaterThan(40);
    expect(nextExpected(engine, s!.id)).toBeLessThan(60);

    // a worker restarted from the snapshot taken before the change scores it as a counter too
    const restored = withSettings(restoreEngine(before));
    const reloader2 = new ConfigReloader(restored, null, () => undefined);
    const pipeline2 = new DetectPipeline(restored, 0, step, 5_000);
    now = t0 + 1000 * step;
    await ingestSeries("disks", "remote_write", series(600, 900), now);
    await score(pipeline2, reloader2, now);
    expect(nextExpected(restored, s!.id)).toBeLessThan(60);

    // and back: a gauge again, forecast at the level
    await changeStreamKind(s!.id, "gauge");
    now = t0 + 1300 * step;
    await ingestSeries("disks", "remote_write", series(900, 1200), now);
    await score(pipeline2, reloader2, now);
    expect(nextExpected(restored, s!.id)).toBeGreaterThan(1e6);
  });

  it("an unknown stream is NOT_FOUND and nothing changes", async () => {
    await expect(changeStreamKind(987_654, "counter")).rejects.toMatchObject({ code: "NOT_FOUND" } satisfies Partial<AppError>);
  });
});
