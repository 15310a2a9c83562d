import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pool } from "../db";
import { availableBackends, createTestDatabase, type TestDatabase } from "../testing/test-db";
import { BYTEA_SLICE_BYTES, byteaSlices, joinSlices } from "./bytea-slices";
import { readPartitionSnapshots, readPartitionStart, savePartitionSnapshot } from "./partition-repo";
import { loadSnapshot, saveSnapshot } from "./snapshots-repo";

describe.each(availableBackends())("bytea read in slices on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
  });
  afterAll(async () => tdb.drop());

  it("gives back every length exactly, and no rows for NULL", async () => {
    const slice = 1000;
    await pool().query("CREATE TABLE blobs (id int, b bytea)");
    const lengths = [0, 1, slice - 1, slice, slice + 1, 3 * slice + 5];
    const values = lengths.map((n) => crypto.randomBytes(n));
    for (const [i, v] of values.entries()) await pool().query("INSERT INTO blobs VALUES ($1, $2)", [i, v]);
    await pool().query("INSERT INTO blobs VALUES (99, NULL)");
    const { select, join } = byteaSlices("b", slice);
    const res = await pool().query<{ id: number; slice_no: number; slice: Buffer }>(`SELECT id, ${select} FROM blobs ${join} ORDER BY id, g.slice_no`);
    for (const [i, v] of values.entries()) {
      const rows = res.rows.filter((r) => r.id === i);
      expect(rows.length).toBe(Math.max(1, Math.ceil(v.length / slice)));
      expect(joinSlices(rows).equals(v)).toBe(true);
    }
    expect(res.rows.some((r) => r.id === 99)).toBe(false);
  });

  it("reads back detector snapshots larger than a slice as they were written", async () => {
    // one slice and a bit on PostgreSQL (the repos' reads join them); PGlite takes about a
    // minute for that much through its socket, so it gets one slice's worth
    const state = crypto.randomBytes(backend === "postgres" ? BYTEA_SLICE_BYTES + 12_345 : 100_000);
    await savePartitionSnapshot("log", 3, 7, state, 2, 1);
    const start = await readPartitionStart("log", 3);
    expect(start.snapshot).toMatchObject({ msgSeq: 7, feedbackId: 2, rollbackId: 1 });
    expect(start.snapshot!.state.equals(state)).toBe(true);
    await savePartitionSnapshot("log", 4, 1, Buffer.from("small"));
    const all = await readPartitionSnapshots("log");
    expect(all.map((s) => [s.partition, s.state.length])).toEqual([[3, state.length], [4, 5]]);
    expect(all[0]!.state.equals(state)).toBe(true);
    const id = await saveSnapshot("manual", 42, state);
    const loaded = await loadSnapshot(id);
    expect(loaded?.meta).toMatchObject({ id, reason: "manual", cursor: 42, sizeBytes: state.length });
    expect(loaded!.state.equals(state)).toBe(true);
    expect((await loadSnapshot())?.meta.id).toBe(id);
    expect(await loadSnapshot(id + 1)).toBeNull();
  });
});
