import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestSeries, invalidateSourceCache } from "../services/ingest/ingest-service";
import { availableBackends, createTestDatabase, type TestDatabase } from "../testing/test-db";
import { insertScores, readScores } from "./scores-repo";
import { listStreams } from "./streams-repo";

describe.each(availableBackends())("insertScores on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    invalidateSourceCache();
  });
  afterAll(async () => tdb.drop());

  it("stores scores with optional bands, keeps NaN scores, and overwrites on re-scoring", async () => {
    const t0 = Date.UTC(2026, 10, 1);
    await ingestSeries("s", "remote_write", [{ metric: "m", labels: {}, kind: "gauge", tsMs: [t0, t0 + 1000], values: [1, 2] }], t0 + 2000);
    const [stream] = await listStreams();
    const id = stream!.id;
    await insertScores({ streamIds: [id, id], tsMs: [t0, t0 + 1000], score: [12.5, Number.NaN], confidence: [0.5, 1], expected: [1, null], lower: [0, Number.NaN], upper: [2, null] });
    let rows = await readScores(id, t0, t0 + 2000, 10);
    expect(rows[0]).toMatchObject({ t: t0, score: 12.5, confidence: 0.5, expected: 1, lower: 0, upper: 2 });
    expect(rows[1]!.score).toBeNaN();
    expect(rows[1]).toMatchObject({ expected: null, lower: null, upper: null });
    await insertScores({ streamIds: [id], tsMs: [t0], score: [90], confidence: [1], expected: [3], lower: [2], upper: [4] });
    rows = await readScores(id, t0, t0 + 2000, 10);
    expect(rows[0]).toMatchObject({ score: 90, expected: 3 });
    expect(rows).toHaveLength(2);
  });
});
