import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pool } from "../db";
import { listMigrations, migrate, migrationsDir } from "../migrate";
import { availableBackends, createTestDatabase } from "../testing/test-db";
import { readPartitionStart, savePartitionSnapshot } from "./partition-repo";
import { archivePartitions, describeSnapshot, readArchivedState } from "./snapshot-archive-repo";
import { listSnapshots, loadSnapshot, saveSnapshot } from "./snapshots-repo";

/**
 * Snapshot sizes as BIGINT (issue 15): a database upgraded with snapshots of every kind keeps
 * reading them, sizes past 2^31 (a state over 2 GiB) are stored and read back exactly, and one
 * past Number.MAX_SAFE_INTEGER is refused, not rounded. The large sizes are written into the
 * rows directly: a real 2-GiB state would hold gigabytes of memory on this shared machine.
 */

const MIGRATION = "20261215100000_snapshot_size_bigint";
const chunkBytes = 1000;
const PAST_INT = 2 ** 31 + 5;
const PAST_UINT = 3 * 2 ** 31 + 7;
const UNSAFE = "9007199254740993"; // 2^53 + 1: a JS number would read it as 2^53

const columnTypes = async () =>
  (
    await pool().query<{ t: string; type: string }>(
      "SELECT table_name AS t, data_type AS type FROM information_schema.columns WHERE column_name = 'size_bytes' ORDER BY table_name",
    )
  ).rows;

describe.each(availableBackends())("snapshot sizes as BIGINT on %s", (backend) => {
  it("keeps an upgraded database's snapshots readable, stores sizes past 2^31 exactly, and refuses unsafe ones", async () => {
    const before = fs.mkdtempSync(path.join(os.tmpdir(), "omen-mig-"));
    for (const m of listMigrations()) if (m.name < MIGRATION) fs.cpSync(path.join(migrationsDir(), m.name), path.join(before, m.name), { recursive: true });
    const tdb = await createTestDatabase(backend, { migrationsDir: before });
    try {
      // every kind of row, saved by the repos on the INTEGER columns
      const small = crypto.randomBytes(200);
      const large = crypto.randomBytes(7 * chunkBytes + 3);
      const single = await saveSnapshot("manual", 7, small);
      const chunked = await saveSnapshot("manual", 8, large, 20, { chunkBytes });
      await savePartitionSnapshot("log", 0, 9, large, 2, 0, { chunkBytes });
      await savePartitionSnapshot("log", 1, 4, small, 2, 0, { chunkBytes });
      const archived = (await archivePartitions("log", 2, "manual"))!;
      // what the old columns could not hold
      await expect(pool().query("UPDATE partition_snapshot SET size_bytes = $1 WHERE log = 'log' AND partition = 1", [PAST_INT])).rejects.toThrow(/out of range/);
      expect(await columnTypes()).toEqual(["detector_snapshot", "detector_snapshot_part", "partition_snapshot"].map((t) => ({ t, type: "integer" })));

      expect((await migrate(tdb.url)).applied[0]).toBe(MIGRATION);
      expect(await columnTypes()).toEqual(["detector_snapshot", "detector_snapshot_part", "partition_snapshot"].map((t) => ({ t, type: "bigint" })));

      // the old rows read as before, sizes as numbers
      expect((await loadSnapshot(single))!).toMatchObject({ meta: { id: single, cursor: 7, sizeBytes: small.length } });
      expect((await loadSnapshot(single))!.state.equals(small)).toBe(true);
      expect((await loadSnapshot(chunked))!.state.equals(large)).toBe(true);
      expect((await readPartitionStart("log", 0)).snapshot!.state.equals(large)).toBe(true);
      const set = await describeSnapshot(archived);
      if (set?.kind !== "partitions" || !set.set) throw new Error("expected a set");
      expect(set.set.parts.map((p) => [p.partition, p.sizeBytes])).toEqual([[0, large.length], [1, small.length]]);
      expect((await readArchivedState(set.set, 0))!.equals(large)).toBe(true);
      expect((await listSnapshots()).map((s) => [s.id, s.sizeBytes])).toEqual([[archived, large.length + small.length], [chunked, large.length], [single, small.length]]);
      // saves after the upgrade
      const next = crypto.randomBytes(3 * chunkBytes + 1);
      await savePartitionSnapshot("log", 0, 10, next, 2, 0, { chunkBytes });
      expect((await readPartitionStart("log", 0)).snapshot!.state.equals(next)).toBe(true);

      // partitions of more than 2 GiB each (their sizes written into the rows): the archive
      // copies them and sums them in the database, and every listing reads them exactly
      await pool().query("INSERT INTO partition_snapshot (log, partition, msg_seq, state, size_bytes, taken_at) VALUES ('big', 0, 3, '\\x', $1, now()), ('big', 1, 4, '\\x', $2, now())", [PAST_INT, PAST_UINT]);
      const big = (await archivePartitions("big", 2, "manual"))!;
      const bigSet = await describeSnapshot(big);
      if (bigSet?.kind !== "partitions" || !bigSet.set) throw new Error("expected a set");
      expect(bigSet.set.parts.map((p) => p.sizeBytes)).toEqual([PAST_INT, PAST_UINT]);
      expect((await listSnapshots()).find((s) => s.id === big)!.sizeBytes).toBe(PAST_INT + PAST_UINT);
      const bigSingle = (await pool().query<{ id: number }>("INSERT INTO detector_snapshot (reason, cursor, size_bytes, state) VALUES ('manual', 11, $1, '\\x') RETURNING id", [PAST_UINT])).rows[0]!.id;
      expect((await listSnapshots()).find((s) => s.id === bigSingle)!.sizeBytes).toBe(PAST_UINT);

      // past Number.MAX_SAFE_INTEGER: refused by name, not rounded
      await pool().query("UPDATE detector_snapshot SET size_bytes = $1 WHERE id = $2", [UNSAFE, bigSingle]);
      await expect(listSnapshots()).rejects.toThrow(/detector_snapshot size: 9007199254740992 bytes is past Number\.MAX_SAFE_INTEGER/);
      await expect(loadSnapshot(bigSingle)).rejects.toThrow(/MAX_SAFE_INTEGER/);
      await pool().query("DELETE FROM detector_snapshot WHERE id = $1", [bigSingle]);
      await pool().query("UPDATE detector_snapshot_part SET size_bytes = $1 WHERE snapshot_id = $2 AND partition = 1", [UNSAFE, big]);
      await expect(describeSnapshot(big)).rejects.toThrow(/detector_snapshot_part\.size_bytes: .* is past Number\.MAX_SAFE_INTEGER/);
      await pool().query("UPDATE partition_snapshot SET size_bytes = $1, chunk_count = 2 WHERE log = 'big' AND partition = 1", [UNSAFE]);
      await expect(readPartitionStart("big", 1)).rejects.toThrow(/partition_snapshot\.size_bytes: .* is past Number\.MAX_SAFE_INTEGER/);
    } finally {
      await tdb.drop();
      fs.rmSync(before, { recursive: true, force: true });
    }
  });
});
