import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { isStale } from "@/lib/triage/freshness";
import { updateStreamRecent } from "../../repos/storage/stream-recent";
import { listStreams } from "../../repos/streams-repo";
import { availableBackends, createTestDatabase, type TestDatabase } from "../../testing/test-db";
import { ingestSeries, invalidateSourceCache } from "../ingest/ingest-service";
import { listStreamsWithSeverity } from "./stream-service";

vi.mock("server-only", () => ({}));

const MIN = 60_000;
const H = 60 * MIN;

describe.each(availableBackends())("overview stream list on %s", (backend) => {
  let tdb: TestDatabase;
  const now = Date.UTC(2026, 10, 5, 12, 0);
  /** metric → [step, newest sample's age] (null: no sample yet) */
  const streams: Record<string, [number, number] | null> = {
    live: [10_000, MIN],
    hourly_quiet: [H, 2 * H], // quiet for 2 h, but that is under 5 of its steps: not stale
    hourly_gone: [H, 6 * H],
    ten_s_gone: [10_000, 10 * MIN],
    never: null,
  };
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
    await ingestSeries("list", "remote_write", Object.keys(streams).map((m) => ({ metric: m, labels: {}, kind: "gauge" as const, tsMs: [now - 30 * 24 * H], values: [1] })), now);
    // each stream's newest points as the worker keeps them (60 points at its step)
    const ids = new Map((await listStreams()).map((s) => [s.metric, s.id]));
    const rows = Object.entries(streams).flatMap(([m, spec]) => (spec ? [{ metric: m, step: spec[0], last: now - spec[1] }] : []));
    const n = 60;
    const data = new Float64Array(rows.length * n * 3);
    const offsets = (k: number) => Int32Array.from(rows, (_, i) => (i * 3 + k) * n);
    rows.forEach((r, i) => {
      for (let j = 0; j < n; j++) {
        data[i * 3 * n + j] = r.last - (n - 1 - j) * r.step;
        data[(i * 3 + 1) * n + j] = j;
        data[(i * 3 + 2) * n + j] = 1;
      }
    });
    await updateStreamRecent(
      rows.map((r) => ({ id: ids.get(r.metric)!, tsMs: r.last, value: 1, score: 1 })),
      { data, t: offsets(0), v: offsets(1), s: offsets(2), count: Int32Array.from(rows, () => n) },
    );
  });
  afterAll(async () => tdb.drop());

  it("marks the same streams stale without reading the steps of streams sampled in the last minutes", async () => {
    const list = await listStreamsWithSeverity({ limit: 100 }, now);
    const stale = Object.fromEntries(list.map((s) => [s.metric, s.stale]));
    expect(stale).toEqual({ live: false, hourly_quiet: false, hourly_gone: true, ten_s_gone: true, never: true });
    // as judged from every stream's step
    const full = await listStreams({ limit: 100 });
    expect(Object.fromEntries(full.map((s) => [s.metric, isStale(s.lastSampleAtMs, s.stepMs, now)]))).toEqual(stale);
    expect(Object.fromEntries(full.map((s) => [s.metric, s.stepMs]))).toMatchObject({ live: 10_000, hourly_quiet: H });
    // the overview read the quiet ones' steps only
    expect(Object.fromEntries(list.map((s) => [s.metric, s.stepMs]))).toMatchObject({ live: 0, hourly_quiet: H, ten_s_gone: 10_000 });
  });
});
