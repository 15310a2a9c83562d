import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashNoise as noise } from "@/lib/scenarios/hash-noise";
import { decompressSnappy, encodeWriteRequest, MetadataCache, scanWriteRequest } from "@/lib/ingest/remote-write";
import { pool } from "../../db";
import { sequenceHead } from "../../repos/storage/samples";
import { ingestRemoteWrite, invalidateSourceCache, staleMarkerCounts } from "../../services/ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { createEngine } from "../../services/detection/engine-adapter";
import { DetectPipeline } from "./detect-pipeline";

/**
 * Prometheus staleness markers (issue 14): a series that disappears gets a marker (the NaN
 * 0x7ff0000000000002) in the next remote_write. Sent as real WriteRequest bytes through the
 * receiver's scan and ingest: the stream is marked ended, the marker is counted and never stored
 * or scored as a value, the worker raises no gap anomaly for the ended stream (while one that
 * goes silent without a marker gets one), and a later sample revives the stream.
 */
const step = 10_000;
const STALE = new Float64Array(new Uint32Array([2, 0x7ff00000]).buffer)[0]!;

type Point = [metric: string, tsMs: number, value: number];

/** One remote_write request as Prometheus sends it: snappy-compressed WriteRequest bytes, scanned by the receiver. */
async function remoteWrite(points: Point[], nowMs: number): Promise<void> {
  const byMetric = new Map<string, { value: number; timestamp: number }[]>();
  for (const [m, t, v] of points) {
    let s = byMetric.get(m);
    if (!s) byMetric.set(m, (s = []));
    s.push({ value: v, timestamp: t });
  }
  const body = encodeWriteRequest({ timeseries: [...byMetric].map(([m, samples]) => ({ labels: [{ name: "__name__", value: m }, { name: "job", value: "end" }], samples })) });
  await ingestRemoteWrite("end-rw", scanWriteRequest(decompressSnappy(body, 1 << 24)), new MetadataCache(), nowMs);
}

async function streamRow(metric: string): Promise<{ id: number; endedAtMs: number | null }> {
  const r = await pool().query<{ id: number; ended: number | null }>(
    "SELECT s.id, (extract(epoch FROM s.ended_at) * 1000)::float8 AS ended FROM stream s JOIN source src ON src.id = s.source_id WHERE src.name = 'end-rw' AND s.metric = $1",
    [metric],
  );
  return { id: r.rows[0]!.id, endedAtMs: r.rows[0]!.ended };
}

async function gapAnomalies(metric: string): Promise<number> {
  const r = await pool().query<{ n: number }>(
    "SELECT count(*)::int AS n FROM anomaly a JOIN stream s ON s.id = a.stream_id WHERE a.type = 'gap' AND s.metric = $1",
    [metric],
  );
  return r.rows[0]!.n;
}

describe.each(availableBackends())("staleness markers on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  it("end the stream: counted, not stored or scored, no gap anomaly while ended, revived by a new sample", async () => {
    const base = Date.UTC(2026, 9, 10);
    const pipeline = new DetectPipeline(createEngine(), await sequenceHead(), step, 100_000);
    const before = staleMarkerCounts();
    const tick = async (i: number) => {
      await pipeline.tick(base + (i + 3) * step);
    };
    // 150 steps of three healthy streams, ten steps a request
    for (let c = 0; c < 150; c += 10) {
      const pts: Point[] = [];
      for (let i = c; i < c + 10; i++) for (const [k, m] of ["end_marked", "end_silent", "end_live"].entries()) pts.push([m, base + i * step, 20 * k + noise(i + 7 * k)]);
      await remoteWrite(pts, base + (c + 10) * step);
      await tick(c + 9);
    }
    // end_marked's series disappears: Prometheus writes the marker one scrape after its last sample;
    // end_silent just stops (no marker). A marker for a series Omen never had only counts.
    const markerAt = base + 150 * step;
    const pts: Point[] = [["end_marked", markerAt, STALE], ["end_never_seen", markerAt, STALE]];
    for (let i = 150; i < 160; i++) pts.push(["end_live", base + i * step, 40 + noise(i + 14)]);
    await remoteWrite(pts, base + 160 * step);
    const marked = await streamRow("end_marked");
    expect(marked.endedAtMs).toBe(markerAt);
    expect((await pool().query("SELECT 1 FROM stream WHERE metric = 'end_never_seen'")).rowCount).toBe(0);
    const after = staleMarkerCounts();
    expect(after.endedStream - before.endedStream).toBe(1);
    expect(after.unknownSeries - before.unknownSeries).toBe(1);
    // the marker is not a sample: nothing stored at its time, no NaN among the stream's values
    const stored = await pool().query<{ n: number; nan: number; last: number }>(
      "SELECT count(*)::int AS n, count(*) FILTER (WHERE value = 'NaN'::float8)::int AS nan, (extract(epoch FROM max(ts)) * 1000)::float8 AS last FROM sample WHERE stream_id = $1",
      [marked.id],
    );
    expect(stored.rows[0]).toEqual({ n: 150, nan: 0, last: base + 149 * step });

    // twenty minutes of end_live alone: a long silence for the other two
    for (let c = 160; c < 280; c += 10) {
      const live: Point[] = [];
      for (let i = c; i < c + 10; i++) live.push(["end_live", base + i * step, 40 + noise(i + 14)]);
      await remoteWrite(live, base + (c + 10) * step);
      await tick(c + 9);
    }
    await pipeline.drain();
    // the silence without a marker is a gap; the ended stream's is not
    expect(await gapAnomalies("end_silent")).toBeGreaterThan(0);
    expect(await gapAnomalies("end_marked")).toBe(0);
    expect(pipeline.stats.endedGapsDropped).toBeGreaterThan(0);
    const scored = await pool().query<{ n: number }>(
      "SELECT count(*)::int AS n FROM score_block b WHERE b.block = $1::int / 32 AND b.mask & (1 << ($1::int % 32)) <> 0",
      [marked.id],
    );
    expect(scored.rows[0]!.n).toBe(150);

    // the series comes back: a new sample revives the stream
    const back: Point[] = [];
    for (let i = 280; i < 290; i++) back.push(["end_live", base + i * step, 40 + noise(i + 14)], ["end_marked", base + i * step, noise(i)]);
    await remoteWrite(back, base + 290 * step);
    await tick(289);
    await pipeline.drain();
    await pipeline.flushStreams();
    expect((await streamRow("end_marked")).endedAtMs).toBeNull();
    // an old marker re-sent after the revival does not end it again
    await remoteWrite([["end_marked", markerAt, STALE]], base + 290 * step);
    expect((await streamRow("end_marked")).endedAtMs).toBeNull();
  });
});
