-- Scale-out: the newest feedback label folded into a partition's detector snapshot, saved with
-- it, so that a new owner applies each later label once (labels are not idempotent).
ALTER TABLE "partition_snapshot" ADD COLUMN "feedback_id" BIGINT NOT NULL DEFAULT 0;
