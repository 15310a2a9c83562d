-- Scale-out snapshots kept one row per partition (issue 15): a `detector_snapshot` row of the
-- partitions holds the listing (reason, cursor, total size), the sample log and the partition
-- count, and an empty `state`; each partition's state is copied server-side from
-- `partition_snapshot` into `detector_snapshot_part` (INSERT … SELECT), so no value nears
-- PostgreSQL's 1-GB limit on one field and no state passes through the worker. Deleting the
-- snapshot (the keep-N pruning) deletes its parts. Rows written before hold the whole set in
-- `state` (lib/scale/snapshot-set.ts) and stay readable.
ALTER TABLE "detector_snapshot" ADD COLUMN "log" TEXT;
ALTER TABLE "detector_snapshot" ADD COLUMN "partitions" INTEGER;
-- the parts' total: `size_bytes` is an INTEGER, and widening it would rewrite every stored snapshot
ALTER TABLE "detector_snapshot" ADD COLUMN "total_bytes" BIGINT;

CREATE TABLE "detector_snapshot_part" (
    "snapshot_id" INTEGER NOT NULL,
    "partition" INTEGER NOT NULL,
    "msg_seq" BIGINT NOT NULL,
    "feedback_id" BIGINT NOT NULL DEFAULT 0,
    "state" BYTEA NOT NULL,
    "size_bytes" INTEGER NOT NULL,
    CONSTRAINT "detector_snapshot_part_pkey" PRIMARY KEY ("snapshot_id", "partition")
);

ALTER TABLE "detector_snapshot_part" ADD CONSTRAINT "detector_snapshot_part_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "detector_snapshot"("id") ON DELETE CASCADE ON UPDATE CASCADE;
