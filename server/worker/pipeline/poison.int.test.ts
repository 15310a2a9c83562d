import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";
import { pool } from "../../db";
import { readScores } from "../../repos/storage/scores";
import { sequenceHead } from "../../repos/storage/samples";
import { listStreams } from "../../repos/streams-repo";
import { ingestSeries, invalidateSourceCache } from "../../services/ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { DetectPipeline } from "./detect-pipeline";
import { createEngine } from "../../services/detection/engine-adapter";
import { resumeRollup } from "./resume-rollup";

/**
 * Regression (issue 14): three remote_write samples of 1.7976931348623157e308 on one stream
 * overflowed the float8 rollup sum; from then on every write of the worker failed, and at each
 * restart the SQL catch-up died with "value out of range: overflow". Now the worker keeps
 * scoring, the rollups keep working, and a restart from an older snapshot comes up.
 */
describe.each(availableBackends())("poison values on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  const step = 10_000;
  const t0 = Date.UTC(2026, 10, 24, 0, 0, 0);
  const n = 360;
  const M = Number.MAX_VALUE;
  const odd: Record<number, number> = { 200: M, 201: M, 202: M, 250: Number.NaN, 260: Infinity, 270: -M, 280: M, 281: M, 282: M };

  it("keeps scoring and rolling up after max-double, NaN and ±Inf samples, and survives a restart", async () => {
    const tsMs = Array.from({ length: n }, (_, i) => t0 + i * step);
    const poison = tsMs.map((_, i) => odd[i] ?? 100 + 5 * noise(i));
    const calm = tsMs.map((_, i) => 50 + 2 * noise(i + 3));
    const now = t0 + n * step + 60_000;
    const start = await sequenceHead();
    const send = (from: number, to: number) =>
      ingestSeries(
        "poison",
        "remote_write",
        [
          { metric: "poisoned", labels: {}, kind: "gauge", tsMs: tsMs.slice(from, to), values: poison.slice(from, to) },
          { metric: "calm", labels: {}, kind: "gauge", tsMs: tsMs.slice(from, to), values: calm.slice(from, to) },
        ],
        now,
      );
    await send(0, 240);
    const first = new DetectPipeline(createEngine(), start, step, 200, await resumeRollup(start));
    while ((await first.tick(now)) > 0) await first.writeRollup(true);
    await first.writeRollup(true);
    await first.drain();
    // more poison, then a restart from a snapshot newer than the rollup watermark: the SQL
    // catch-up folds those samples (this is where every restart died)
    await send(240, 300);
    const mid = await sequenceHead();
    const second = new DetectPipeline(createEngine(), mid, step, 200, await resumeRollup(mid));
    await send(300, n);
    while ((await second.tick(now)) > 0) await second.writeRollup(true);
    await second.writeRollup(true);
    await second.drain();

    const [poisoned] = await listStreams({ search: "poisoned" });
    const [calmStream] = await listStreams({ search: "calm" });
    const scores = await readScores(poisoned!.id, t0, now, 100_000);
    // 0–239 by the first life, 300–359 by the second (240–299 lie behind its snapshot cursor)
    expect(scores.length).toBe(300);
    expect(scores.every((s) => Number.isFinite(s.score) && s.score >= 0 && s.score <= 100)).toBe(true);
    // the poison scores as an extreme point; afterwards the stream scores calmly again (no poisoned state)
    const spike = Math.max(...scores.filter((s) => s.t >= tsMs[200]! && s.t <= tsMs[206]!).map((s) => s.score));
    const after = Math.max(...scores.filter((s) => s.t > tsMs[215]! && s.t < tsMs[240]!).map((s) => s.score));
    expect(spike).toBeGreaterThan(60);
    expect(after).toBeLessThan(spike);
    expect(after).toBeLessThan(60);
    expect((await readScores(calmStream!.id, t0, now, 100_000)).length).toBe(300);

    // rollups: every summable sample exactly once, the six odd ones left out
    const roll = await pool().query<{ c: string; s: number }>("SELECT sum(count) AS c, sum(sum)::float8 AS s FROM sample_rollup_1m WHERE stream_id = $1", [poisoned!.id]);
    expect(Number(roll.rows[0]!.c)).toBe(n - Object.keys(odd).length);
    expect(Number.isFinite(roll.rows[0]!.s)).toBe(true);
  });
});
