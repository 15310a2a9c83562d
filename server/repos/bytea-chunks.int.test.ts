import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pool } from "../db";
import { listMigrations, migrate, migrationsDir } from "../migrate";
import { availableBackends, createTestDatabase, type TestDatabase } from "../testing/test-db";
import { chunkCount, MissingChunksError, readChunks, writeChunks, type ChunkTable } from "./bytea-chunks";
import { PARTITION_SNAPSHOT_CHUNKS, readPartitionSnapshots, readPartitionStart, savePartitionSnapshot } from "./partition-repo";
import { archivePartitions, describeSnapshot, readArchivedState } from "./snapshot-archive-repo";
import { listSnapshots, loadSnapshot, pruneSnapshots, saveSnapshot } from "./snapshots-repo";
import { inReadSnapshot, inTransaction } from "./transaction";

/**
 * Large detector states stored as a row per chunk (issue 15): written and read back exactly,
 * one transaction per save (a failure at any chunk leaves the old state), deleted with their
 * owner, and rows stored inline by older versions still read.
 */

// small chunks: many of them in a fast test
const chunkBytes = 1000;

const count = async (table: string, where = "true", params: unknown[] = []) =>
  (await pool().query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params)).rows[0]!.n;

/** Makes every insert of chunk `seq` into `table` fail, as a crash or an error midway would. */
async function failAtChunk(table: string, seq: number): Promise<() => Promise<void>> {
  await pool().query(`CREATE FUNCTION omen_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure at chunk %', NEW.seq; END $$`);
  await pool().query(`CREATE TRIGGER omen_test_fail BEFORE INSERT ON ${table} FOR EACH ROW WHEN (NEW.seq = ${seq}) EXECUTE FUNCTION omen_test_fail()`);
  return async () => {
    await pool().query(`DROP TRIGGER omen_test_fail ON ${table}`);
    await pool().query("DROP FUNCTION omen_test_fail()");
  };
}

describe.each(availableBackends())("bytea stored as a row per chunk on %s", (backend) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
  });
  afterAll(async () => tdb.drop());

  it("stores every length exactly, inline or in chunk rows, and notices missing ones", async () => {
    await pool().query("CREATE TABLE blob (id int PRIMARY KEY)");
    await pool().query("CREATE TABLE blob_chunk (id int REFERENCES blob ON DELETE CASCADE, seq int, data bytea NOT NULL, PRIMARY KEY (id, seq))");
    const table: ChunkTable = { name: "blob_chunk", key: ["id"] };
    const lengths = [0, 1, chunkBytes - 1, chunkBytes, chunkBytes + 1, 7 * chunkBytes + 5];
    const values = lengths.map((n) => crypto.randomBytes(n));
    expect(values.map((v) => chunkCount(v, { chunkBytes }))).toEqual([0, 0, 0, 0, 2, 8]);
    for (const [i, v] of values.entries()) {
      await inTransaction(async (c) => {
        await c.query("INSERT INTO blob VALUES ($1)", [i]);
        await writeChunks(c, table, [i], v, { chunkBytes });
      });
    }
    for (const [i, v] of values.entries()) {
      const n = chunkCount(v, { chunkBytes });
      expect(await count("blob_chunk", "id = $1", [i])).toBe(n);
      if (n === 0) continue;
      // one chunk per statement, or all at once: the same bytes
      for (const batch of [1, 3, 100]) expect((await inReadSnapshot((c) => readChunks(c, table, [i], n, v.length, batch))).equals(v)).toBe(true);
    }
    await pool().query("DELETE FROM blob_chunk WHERE id = 5 AND seq = 7");
    await expect(readChunks(pool(), table, [5], 8, values[5]!.length)).rejects.toThrow(MissingChunksError);
    await pool().query("DELETE FROM blob_chunk WHERE id = 4 AND seq = 0");
    await expect(readChunks(pool(), table, [4], 2, values[4]!.length)).rejects.toThrow(MissingChunksError);
  });

  it("round-trips multi-chunk snapshots byte for byte, the state in chunk rows only", async () => {
    const state = crypto.randomBytes(12 * chunkBytes + 345);
    const id = await saveSnapshot("manual", 42, state, 20, { chunkBytes });
    const loaded = await loadSnapshot(id);
    expect(loaded?.meta).toMatchObject({ id, reason: "manual", cursor: 42, sizeBytes: state.length });
    expect(loaded!.state.equals(state)).toBe(true);
    expect(await count("detector_snapshot_chunk", "snapshot_id = $1", [id])).toBe(13);
    expect(await count("detector_snapshot", "id = $1 AND octet_length(state) = 0 AND chunk_count = 13", [id])).toBe(1);

    await savePartitionSnapshot("log", 1, 5, state, 3, 0, { chunkBytes });
    expect(await count("partition_snapshot_chunk", "log = 'log' AND partition = 1")).toBe(13);
    const next = crypto.randomBytes(9 * chunkBytes);
    await savePartitionSnapshot("log", 1, 6, next, 3, 0, { chunkBytes });
    // the replaced state's chunks are gone, not left behind past the new ones
    expect(await count("partition_snapshot_chunk", "log = 'log' AND partition = 1")).toBe(9);
    const start = await readPartitionStart("log", 1);
    expect(start.snapshot).toMatchObject({ msgSeq: 6, feedbackId: 3, rollbackId: 0 });
    expect(start.snapshot!.state.equals(next)).toBe(true);
    // an older snapshot (a worker that lost the partition) still does not replace it, nor its chunks
    await savePartitionSnapshot("log", 1, 4, state, 3, 0, { chunkBytes });
    expect((await readPartitionStart("log", 1)).snapshot!.state.equals(next)).toBe(true);
    expect(await count("partition_snapshot_chunk", "log = 'log' AND partition = 1")).toBe(9);
    // a small state replacing a large one is inline, its chunks deleted
    await savePartitionSnapshot("log", 1, 7, Buffer.from("small"), 3, 0, { chunkBytes });
    expect((await readPartitionStart("log", 1)).snapshot!.state.toString()).toBe("small");
    expect(await count("partition_snapshot_chunk", "log = 'log' AND partition = 1")).toBe(0);
    await savePartitionSnapshot("log", 1, 8, next, 3, 0, { chunkBytes });
    const all = await readPartitionSnapshots("log");
    expect(all.find((s) => s.partition === 1)!.state.equals(next)).toBe(true);
  });

  it("leaves the previous snapshot whole when a save fails midway through its chunks", async () => {
    const before = crypto.randomBytes(5 * chunkBytes + 1);
    const id = await saveSnapshot("periodic", 10, before, 20, { chunkBytes });
    await savePartitionSnapshot("log", 2, 10, before, 0, 0, { chunkBytes });
    const after = crypto.randomBytes(6 * chunkBytes);
    // a cursor past bigint (2^63 prints as 9223372036854776000): the owner row's statement fails
    await expect(saveSnapshot("periodic", 2 ** 63, after, 20, { chunkBytes })).rejects.toThrow(/out of range/);
    await expect(savePartitionSnapshot("log", 2, 2 ** 63, after, 0, 0, { chunkBytes })).rejects.toThrow(/out of range/);
    // the fourth chunk fails, after the owner row was written and the old chunks deleted
    let undo = await failAtChunk("detector_snapshot_chunk", 3);
    await expect(saveSnapshot("periodic", 11, after, 20, { chunkBytes })).rejects.toThrow(/injected failure at chunk 3/);
    await undo();
    undo = await failAtChunk("partition_snapshot_chunk", 3);
    await expect(savePartitionSnapshot("log", 2, 11, after, 0, 0, { chunkBytes })).rejects.toThrow(/injected failure at chunk 3/);
    await undo();

    expect((await listSnapshots()).filter((s) => s.reason === "periodic").map((s) => s.id)).toEqual([id]);
    expect((await loadSnapshot(id))!.state.equals(before)).toBe(true);
    expect(await count("detector_snapshot_chunk", "snapshot_id = $1", [id])).toBe(6);
    const start = await readPartitionStart("log", 2);
    expect(start.snapshot?.msgSeq).toBe(10);
    expect(start.snapshot!.state.equals(before)).toBe(true);
    expect(await count("partition_snapshot_chunk", "log = 'log' AND partition = 2")).toBe(6);
    // nothing of the failed saves is in the way of the next ones, on every connection
    await Promise.all([2, 3, 4, 5].map((p) => savePartitionSnapshot("log", p, 11, after, 0, 0, { chunkBytes })));
    for (const p of [2, 3, 4, 5]) expect((await readPartitionStart("log", p)).snapshot!.state.equals(after)).toBe(true);
  });

  it("gives a reader the old state or the new one while saves replace it", async () => {
    const a = crypto.randomBytes(20 * chunkBytes + 7);
    const b = crypto.randomBytes(3 * chunkBytes + 11);
    await savePartitionSnapshot("log", 9, 1, a, 0, 0, { chunkBytes });
    const reads: Promise<Buffer | undefined>[] = [];
    const saves: Promise<void>[] = [];
    for (let i = 0; i < 12; i++) {
      saves.push(savePartitionSnapshot("log", 9, 2 + i, i % 2 ? a : b, 0, 0, { chunkBytes }));
      reads.push(readPartitionStart("log", 9).then((s) => s.snapshot?.state));
    }
    await Promise.all(saves);
    for (const got of await Promise.all(reads)) expect(got?.equals(a) || got?.equals(b)).toBe(true);
    expect((await readPartitionStart("log", 9)).snapshot!.state.equals(a)).toBe(true);
    expect(await count("partition_snapshot_chunk", "log = 'log' AND partition = 9")).toBe(21);
  });

  it("deletes a snapshot's chunks with it: pruned, deleted, or a partition's removed", async () => {
    const state = crypto.randomBytes(4 * chunkBytes);
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(await saveSnapshot("before-rollback", i, state, 20, { chunkBytes }));
    await pruneSnapshots("before-rollback", 1);
    expect(await count("detector_snapshot_chunk", "snapshot_id = ANY($1)", [ids.slice(0, 2)])).toBe(0);
    expect(await count("detector_snapshot_chunk", "snapshot_id = $1", [ids[2]])).toBe(4);
    await pool().query("DELETE FROM detector_snapshot WHERE id = $1", [ids[2]]);
    expect(await count("detector_snapshot_chunk", "snapshot_id = $1", [ids[2]])).toBe(0);

    // a scale-out snapshot: the partitions' chunk rows are copied with the parts, and go with them
    await savePartitionSnapshot("arch", 0, 3, state, 0, 0, { chunkBytes });
    await savePartitionSnapshot("arch", 1, 4, Buffer.from("inline"), 0, 0, { chunkBytes });
    const kept = (await archivePartitions("arch", 2, "periodic", false, 5))!;
    expect(await count("detector_snapshot_part_chunk", "snapshot_id = $1", [kept])).toBe(4);
    const set = await describeSnapshot(kept);
    if (set?.kind !== "partitions" || !set.set) throw new Error("expected a set");
    // the partition saved since does not change the copy
    await savePartitionSnapshot("arch", 0, 5, crypto.randomBytes(2 * chunkBytes + 1), 0, 0, { chunkBytes });
    expect((await readArchivedState(set.set, 0))!.equals(state)).toBe(true);
    expect((await readArchivedState(set.set, 1))!.toString()).toBe("inline");
    await pool().query("DELETE FROM detector_snapshot WHERE id = $1", [kept]);
    expect(await count("detector_snapshot_part_chunk", "snapshot_id = $1", [kept])).toBe(0);
    await expect(readArchivedState(set.set, 0)).rejects.toThrow(/no longer exists/);
    await pool().query("DELETE FROM partition_snapshot WHERE log = 'arch'");
    expect(await count("partition_snapshot_chunk", "log = 'arch'")).toBe(0);
  });
});

describe.each(availableBackends())("the chunk-rows migration on %s", (backend) => {
  it("keeps snapshots stored inline by older versions readable, and replaces them with chunk rows", async () => {
    const MIGRATION = "20261214100000_snapshot_chunk_rows";
    const before = fs.mkdtempSync(path.join(os.tmpdir(), "omen-mig-"));
    for (const m of listMigrations()) if (m.name < MIGRATION) fs.cpSync(path.join(migrationsDir(), m.name), path.join(before, m.name), { recursive: true });
    const tdb = await createTestDatabase(backend, { migrationsDir: before });
    try {
      // larger than a chunk, stored as one value the way older versions did
      const state = crypto.randomBytes(5 * chunkBytes + 3);
      const single = (await pool().query<{ id: number }>("INSERT INTO detector_snapshot (reason, cursor, size_bytes, state) VALUES ('manual', 7, $1, $2) RETURNING id", [state.length, state])).rows[0]!.id;
      await pool().query("INSERT INTO partition_snapshot (log, partition, msg_seq, state, size_bytes, taken_at, feedback_id) VALUES ('log', 0, 9, $1, $2, now(), 2)", [state, state.length]);
      // a scale-out snapshot's part, as the archive copied it before
      const archived = (await pool().query<{ id: number }>("INSERT INTO detector_snapshot (reason, cursor, size_bytes, state, log, partitions, total_bytes) VALUES ('manual', 9, 0, '\\x', 'log', 1, $1) RETURNING id", [state.length])).rows[0]!.id;
      await pool().query("INSERT INTO detector_snapshot_part (snapshot_id, partition, msg_seq, feedback_id, state, size_bytes) SELECT $1, partition, msg_seq, feedback_id, state, size_bytes FROM partition_snapshot", [archived]);
      expect((await migrate(tdb.url)).applied[0]).toBe(MIGRATION);

      expect((await loadSnapshot(single))!.state.equals(state)).toBe(true);
      const start = await readPartitionStart("log", 0);
      expect(start.snapshot).toMatchObject({ msgSeq: 9, feedbackId: 2 });
      expect(start.snapshot!.state.equals(state)).toBe(true);
      expect((await readPartitionSnapshots("log"))[0]!.state.equals(state)).toBe(true);
      const set = await describeSnapshot(archived);
      if (set?.kind !== "partitions" || !set.set) throw new Error("expected a set");
      expect((await readArchivedState(set.set, 0))!.equals(state)).toBe(true);
      expect(await describeSnapshot(single)).toEqual({ kind: "single" });

      // the next save of the partition is chunk rows; the archived copy stays as it was
      const next = crypto.randomBytes(3 * chunkBytes + 1);
      await savePartitionSnapshot("log", 0, 10, next, 2, 0, { chunkBytes });
      expect((await readPartitionStart("log", 0)).snapshot!.state.equals(next)).toBe(true);
      expect(await count("partition_snapshot", "octet_length(state) = 0 AND chunk_count = 4")).toBe(1);
      expect((await readArchivedState(set.set, 0))!.equals(state)).toBe(true);
    } finally {
      await tdb.drop();
      fs.rmSync(before, { recursive: true, force: true });
    }
  });
});
