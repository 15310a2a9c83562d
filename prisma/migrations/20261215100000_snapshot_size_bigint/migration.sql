-- Snapshot sizes as BIGINT (issue 15): `size_bytes` was an INTEGER, so a detector state over
-- 2 GiB (gzipped; ~390,000 series in one partition) failed to save although its chunk rows
-- (20261214100000_snapshot_chunk_rows) have no such limit. The repos read the sizes as JS
-- numbers and refuse one past Number.MAX_SAFE_INTEGER (server/repos/rows.ts `ZByteCount`).
-- Widening rewrites the three tables under an ACCESS EXCLUSIVE lock; their states are chunk
-- rows of other tables since the previous migration, so only states still stored inline by an
-- older version are copied. `detector_snapshot.total_bytes` (already BIGINT) keeps the scale-out
-- snapshots' totals.
ALTER TABLE "detector_snapshot" ALTER COLUMN "size_bytes" SET DATA TYPE BIGINT;
ALTER TABLE "detector_snapshot_part" ALTER COLUMN "size_bytes" SET DATA TYPE BIGINT;
ALTER TABLE "partition_snapshot" ALTER COLUMN "size_bytes" SET DATA TYPE BIGINT;
