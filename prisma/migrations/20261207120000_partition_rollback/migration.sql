-- Scale-out rollback: the newest rollback (the id of the `detector_snapshot` that kept the state
-- before it) folded into a partition's detector snapshot, saved with it, so that a partition
-- that moves, or had no owner when the rollback was announced, is rolled back by its next owner.
ALTER TABLE "partition_snapshot" ADD COLUMN "rollback_id" BIGINT NOT NULL DEFAULT 0;
