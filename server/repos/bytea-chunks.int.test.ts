import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pool } from "../db";
import { availableBackends, createTestDatabase, type TestDatabase } from "../testing/test-db";
import { writeLargeBytea } from "./bytea-chunks";
import { readPartitionStart, savePartitionSnapshot } from "./partition-repo";
import { listSnapshots, loadSnapshot, saveSnapshot } from "./snapshots-repo";

// small chunks: many of them in a fast test
const chunkBytes = 1000;

describe.each(availableBackends())("bytea written in chunks on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
  });
  afterAll(async () => tdb.drop());

  it("stores every length exactly, one parameter or many chunks", async () => {
    await pool().query("CREATE TABLE blobs (id int PRIMARY KEY, b bytea NOT NULL)");
    const lengths = [0, 1, chunkBytes - 1, chunkBytes, chunkBytes + 1, 7 * chunkBytes + 5];
    const values = lengths.map((n) => crypto.randomBytes(n));
    for (const [i, v] of values.entries()) {
      await writeLargeBytea(v, [i], (value) => `INSERT INTO blobs (id, b) VALUES ($1, ${value})`, { chunkBytes });
    }
    const res = await pool().query<{ id: number; b: Buffer }>("SELECT id, b FROM blobs ORDER BY id");
    expect(res.rows.map((r) => r.b.length)).toEqual(lengths);
    for (const [i, v] of values.entries()) expect(res.rows[i]!.b.equals(v)).toBe(true);
  });

  it("round-trips multi-chunk snapshots byte for byte", async () => {
    const state = crypto.randomBytes(12 * chunkBytes + 345);
    const id = await saveSnapshot("manual", 42, state, 20, { chunkBytes });
    const loaded = await loadSnapshot(id);
    expect(loaded?.meta).toMatchObject({ id, reason: "manual", cursor: 42, sizeBytes: state.length });
    expect(loaded!.state.equals(state)).toBe(true);

    await savePartitionSnapshot("log", 1, 5, state, 3, 0, { chunkBytes });
    const next = crypto.randomBytes(9 * chunkBytes);
    await savePartitionSnapshot("log", 1, 6, next, 3, 0, { chunkBytes });
    const start = await readPartitionStart("log", 1);
    expect(start.snapshot).toMatchObject({ msgSeq: 6, feedbackId: 3, rollbackId: 0 });
    expect(start.snapshot!.state.equals(next)).toBe(true);
    // an older snapshot (a worker that lost the partition) still does not replace it
    await savePartitionSnapshot("log", 1, 4, state, 3, 0, { chunkBytes });
    expect((await readPartitionStart("log", 1)).snapshot!.state.equals(next)).toBe(true);
  });

  it("leaves the previous snapshot whole when a save fails after its chunks were written", async () => {
    const before = crypto.randomBytes(5 * chunkBytes + 1);
    const id = await saveSnapshot("periodic", 10, before, 20, { chunkBytes });
    await savePartitionSnapshot("log", 2, 10, before, 0, 0, { chunkBytes });
    const after = crypto.randomBytes(6 * chunkBytes);
    // a cursor past bigint (2^63 prints as 9223372036854776000): the statement that joins the chunks fails, after all of them were staged
    await expect(saveSnapshot("periodic", 2 ** 63, after, 20, { chunkBytes })).rejects.toThrow(/out of range/);
    await expect(savePartitionSnapshot("log", 2, 2 ** 63, after, 0, 0, { chunkBytes })).rejects.toThrow(/out of range/);

    expect((await listSnapshots()).filter((s) => s.reason === "periodic").map((s) => s.id)).toEqual([id]);
    expect((await loadSnapshot(id))!.state.equals(before)).toBe(true);
    const start = await readPartitionStart("log", 2);
    expect(start.snapshot?.msgSeq).toBe(10);
    expect(start.snapshot!.state.equals(before)).toBe(true);
    // the staging table went with the transaction: the next save works on every connection
    await Promise.all([1, 2, 3].map((p) => savePartitionSnapshot("log", 2 + p, 11, after, 0, 0, { chunkBytes })));
    for (const p of [3, 4, 5]) expect((await readPartitionStart("log", p)).snapshot!.state.equals(after)).toBe(true);
  });
});
