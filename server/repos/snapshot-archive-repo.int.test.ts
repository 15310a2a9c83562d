import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeSnapshotSet } from "@/lib/scale/snapshot-set";
import { loadSnapshotSet } from "../worker/partitioned/snapshot-archive";
import { pool } from "../db";
import { listMigrations, migrate, migrationsDir } from "../migrate";
import { availableBackends, createTestDatabase, type TestDatabase } from "../testing/test-db";
import { savePartitionSnapshot } from "./partition-repo";
import { archivePartitions, describeSnapshot, readArchivedState } from "./snapshot-archive-repo";
import { listSnapshots, saveSnapshot } from "./snapshots-repo";

/**
 * Scale-out detector snapshots kept one row per partition (issue 15): the copy happens inside
 * the database, each partition's owner reads back only its own partition, pruning takes the
 * parts along, and a set stored the old way (one value) is still read one partition at a time.
 */
const LOG = "omen_a-samples";
const PARTITIONS = 4;

describe.each(availableBackends())("scale-out snapshot archive, one row per partition, on %s", (backend) => {
  let tdb: TestDatabase;
  /** partition → its saved state (partition 2 has learned nothing) */
  const states = new Map<number, Buffer>();
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    for (const p of [0, 1, 3]) {
      states.set(p, crypto.randomBytes(10_000 + p * 1_000));
      await savePartitionSnapshot(LOG, p, 100 + p, states.get(p)!, p, 0);
    }
    // another log's partition is not copied
    await savePartitionSnapshot("other-samples", 0, 5, Buffer.from("other"));
  });
  afterAll(async () => tdb.drop());

  const partsOf = async (id: number) =>
    (await pool().query<{ partition: number; size_bytes: number }>("SELECT partition, size_bytes FROM detector_snapshot_part WHERE snapshot_id = $1 ORDER BY partition", [id])).rows;

  it("copies each partition's state into a row of its own under one listed snapshot", async () => {
    const id = (await archivePartitions(LOG, PARTITIONS, "manual", false))!;
    expect(await partsOf(id)).toEqual([0, 1, 3].map((p) => ({ partition: p, size_bytes: states.get(p)!.length })));
    const head = (await pool().query<{ bytes: number; log: string; partitions: number; cursor: number }>("SELECT octet_length(state) AS bytes, log, partitions, cursor FROM detector_snapshot WHERE id = $1", [id])).rows[0]!;
    // the listing row holds no state: only where the parts belong
    expect(head).toEqual({ bytes: 0, log: LOG, partitions: PARTITIONS, cursor: 103 });
    const listed = (await listSnapshots()).find((s) => s.id === id)!;
    expect(listed).toMatchObject({ reason: "manual", cursor: 103, sizeBytes: [...states.values()].reduce((a, s) => a + s.length, 0) });
    // nothing to copy: no snapshot unless asked for one even so
    expect(await archivePartitions("empty-samples", PARTITIONS, "periodic", false)).toBeNull();
    const empty = (await archivePartitions("empty-samples", PARTITIONS, "before-rollback", true))!;
    expect(await partsOf(empty)).toEqual([]);
  });

  it("gives each partition's owner its own partition's state alone", async () => {
    const id = (await archivePartitions(LOG, PARTITIONS, "manual", false))!;
    const loaded = await loadSnapshotSet(id, LOG, PARTITIONS);
    if (!("archive" in loaded)) throw new Error(loaded.error);
    for (const p of [0, 1, 3]) expect((await loaded.archive.stateOf(p))!.equals(states.get(p)!)).toBe(true);
    expect(await loaded.archive.stateOf(2)).toBeNull();
    // read in slices (a partition's state passes node-pg's limit on one field from ~50,000 series)
    const set = (await describeSnapshot(id)) as { kind: "partitions"; set: NonNullable<Parameters<typeof readArchivedState>[0]> };
    expect(set.set.parts.map((p) => [p.partition, p.msgSeq, p.feedbackId])).toEqual([[0, 100, 0], [1, 101, 1], [3, 103, 3]]);
    expect((await readArchivedState(set.set, 3, 999))!.equals(states.get(3)!)).toBe(true);
    // a later save of the partition does not change the copy
    await savePartitionSnapshot(LOG, 0, 200, Buffer.from("newer"), 0, 0);
    expect((await loaded.archive.stateOf(0))!.equals(states.get(0)!)).toBe(true);
    await savePartitionSnapshot(LOG, 0, 300, states.get(0)!, 0, 0);
  });

  it("refuses, with the reason, a single worker's snapshot and another log's or partition count's", async () => {
    const id = (await archivePartitions(LOG, PARTITIONS, "manual", false))!;
    const error = async (snapshotId: number, log = LOG, partitions = PARTITIONS) => {
      const r = await loadSnapshotSet(snapshotId, log, partitions);
      return "error" in r ? r.error : null;
    };
    expect(await error(id, "omen_b-samples")).toBe(`Snapshot ${id} was taken on sample log ${LOG} with 4 partitions; this installation runs omen_b-samples with 4.`);
    expect(await error(id, LOG, 8)).toBe(`Snapshot ${id} was taken on sample log ${LOG} with 4 partitions; this installation runs ${LOG} with 8.`);
    const single = await saveSnapshot("manual", 0, zlib.gzipSync(Buffer.from("{}")));
    expect(await error(single)).toBe(`Snapshot ${single} holds a single worker's detectors (taken without OMEN_NATS_URL); in scale-out mode only snapshots of the partitions can be restored.`);
    expect(await error(single + 1000)).toBe(`Snapshot ${single + 1000} does not exist.`);
  });

  it("keeps the newest N automatic snapshots, deleting the older ones' parts with them", async () => {
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push((await archivePartitions(LOG, PARTITIONS, "periodic", false, 2))!);
    const kept = (await listSnapshots()).filter((s) => s.reason === "periodic").map((s) => s.id);
    expect(kept).toEqual([ids[3], ids[2]]);
    for (const id of ids.slice(0, 2)) expect(await partsOf(id)).toEqual([]);
    for (const id of ids.slice(2)) expect((await partsOf(id)).length).toBe(3);
    // an owner that read the listing before the pruning learns it is gone, not fresh detectors
    const set = await describeSnapshot(ids[3]!);
    await archivePartitions(LOG, PARTITIONS, "periodic", false, 1);
    await archivePartitions(LOG, PARTITIONS, "periodic", false, 1);
    if (set?.kind !== "partitions" || !set.set) throw new Error("expected a set");
    await expect(readArchivedState(set.set, 1)).rejects.toThrow(/no longer exists/);
    // manual snapshots are kept
    expect((await listSnapshots()).filter((s) => s.reason === "manual").length).toBeGreaterThanOrEqual(3);
  });

  it("still restores a set stored the old way (one value in detector_snapshot.state), one partition at a time", async () => {
    const blob = encodeSnapshotSet({ log: LOG, partitions: PARTITIONS, states: [1, 3].map((p) => ({ partition: p, msgSeq: p, feedbackId: 0, state: states.get(p)! })) });
    const id = await saveSnapshot("periodic", 3, Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength));
    const loaded = await loadSnapshotSet(id, LOG, PARTITIONS);
    if (!("archive" in loaded)) throw new Error(loaded.error);
    expect((await loaded.archive.stateOf(1))!.equals(states.get(1)!)).toBe(true);
    expect((await loaded.archive.stateOf(3))!.equals(states.get(3)!)).toBe(true);
    expect(await loaded.archive.stateOf(0)).toBeNull();
    const set = await describeSnapshot(id);
    if (set?.kind !== "partitions" || !set.set) throw new Error("expected a set");
    expect((await readArchivedState(set.set, 3, 777))!.equals(states.get(3)!)).toBe(true);
    expect((await loadSnapshotSet(id, LOG, 8)) as { error: string }).toEqual({ error: `Snapshot ${id} was taken on sample log ${LOG} with 4 partitions; this installation runs ${LOG} with 8.` });
    // a damaged one is refused as before
    const damaged = await saveSnapshot("manual", 0, Buffer.from(blob.subarray(0, blob.byteLength - 1)));
    expect(await loadSnapshotSet(damaged, LOG, PARTITIONS)).toEqual({ error: expect.stringMatching(/single worker's detectors/) as unknown });
  });
});

describe.each(availableBackends())("the per-partition snapshot migration on %s", (backend) => {
  it("keeps the snapshots of an installation that upgrades listed and restorable", async () => {
    const MIGRATION = "20261213100000_snapshot_archive_parts";
    const before = fs.mkdtempSync(path.join(os.tmpdir(), "omen-mig-"));
    for (const m of listMigrations()) if (m.name < MIGRATION) fs.cpSync(path.join(migrationsDir(), m.name), path.join(before, m.name), { recursive: true });
    const tdb = await createTestDatabase(backend, { migrationsDir: before });
    try {
      const state = crypto.randomBytes(5_000);
      const blob = encodeSnapshotSet({ log: LOG, partitions: PARTITIONS, states: [{ partition: 2, msgSeq: 9, feedbackId: 0, state }] });
      const old = (await pool().query<{ id: number }>("INSERT INTO detector_snapshot (reason, cursor, size_bytes, state) VALUES ('periodic', 9, $1, $2) RETURNING id", [blob.byteLength, Buffer.from(blob)])).rows[0]!.id;
      const single = (await pool().query<{ id: number }>("INSERT INTO detector_snapshot (reason, cursor, size_bytes, state) VALUES ('manual', 3, 4, '\\x1f8b0800') RETURNING id")).rows[0]!.id;
      expect((await migrate(tdb.url)).applied[0]).toBe(MIGRATION);
      expect((await listSnapshots()).map((s) => [s.id, s.sizeBytes])).toEqual([[single, 4], [old, blob.byteLength]]);
      const loaded = await loadSnapshotSet(old, LOG, PARTITIONS);
      if (!("archive" in loaded)) throw new Error(loaded.error);
      expect((await loaded.archive.stateOf(2))!.equals(state)).toBe(true);
      expect(await describeSnapshot(single)).toEqual({ kind: "single" });
      // new snapshots are pruned with the old ones of their reason
      await savePartitionSnapshot(LOG, 0, 1, Buffer.from("x"));
      const id = (await archivePartitions(LOG, PARTITIONS, "periodic", false, 1))!;
      expect((await listSnapshots()).map((s) => s.id)).toEqual([id, single]);
    } finally {
      await tdb.drop();
      fs.rmSync(before, { recursive: true, force: true });
    }
  });
});
