-- Large detector states kept as a row per chunk (issue 15): a state larger than one chunk
-- (1 MB, server/repos/bytea-chunks.ts) is saved as rows of `<table>_chunk` keyed by its owner
-- and `seq`, its owner's `state` left empty and `chunk_count` saying how many. Neither the save
-- nor the read makes one value of it inside the database, which on the embedded PGlite held the
-- Node event loop for the whole join (1.8-4.2 s for 80 MB). Rows written before keep their
-- state inline (`chunk_count` 0) and stay readable. Deleting (or pruning) the owner deletes its
-- chunks.
ALTER TABLE "detector_snapshot" ADD COLUMN     "chunk_count" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "detector_snapshot_part" ADD COLUMN     "chunk_count" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "partition_snapshot" ADD COLUMN     "chunk_count" INTEGER NOT NULL DEFAULT 0;

CREATE TABLE "detector_snapshot_chunk" (
    "snapshot_id" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "detector_snapshot_chunk_pkey" PRIMARY KEY ("snapshot_id","seq")
);

CREATE TABLE "detector_snapshot_part_chunk" (
    "snapshot_id" INTEGER NOT NULL,
    "partition" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "detector_snapshot_part_chunk_pkey" PRIMARY KEY ("snapshot_id","partition","seq")
);

CREATE TABLE "partition_snapshot_chunk" (
    "log" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "partition_snapshot_chunk_pkey" PRIMARY KEY ("log","partition","seq")
);

ALTER TABLE "detector_snapshot_chunk" ADD CONSTRAINT "detector_snapshot_chunk_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "detector_snapshot"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "detector_snapshot_part_chunk" ADD CONSTRAINT "detector_snapshot_part_chunk_snapshot_id_partition_fkey" FOREIGN KEY ("snapshot_id", "partition") REFERENCES "detector_snapshot_part"("snapshot_id", "partition") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "partition_snapshot_chunk" ADD CONSTRAINT "partition_snapshot_chunk_log_partition_fkey" FOREIGN KEY ("log", "partition") REFERENCES "partition_snapshot"("log", "partition") ON DELETE CASCADE ON UPDATE CASCADE;
