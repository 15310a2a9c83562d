-- Scale-out: each partition's late samples (behind its clock) and of those the ones scored, added by the
-- transaction that moves its cursor, so the counts follow the partition to its next owner and a replay
-- does not count them again.
ALTER TABLE "partition_cursor" ADD COLUMN "late_samples" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN "late_scored" BIGINT NOT NULL DEFAULT 0;
