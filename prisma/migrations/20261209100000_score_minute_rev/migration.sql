-- Which stored scores a one-minute score row counts (server/repos/storage/scores.ts): the newest
-- score_block rev when the row was last written. A score whose block row has a rev at or below it
-- was folded into the row; a later one was not (it was in a minute still open when the worker
-- crashed), so a replay folds it in. NULL (rows written before this column): counts them all.
ALTER TABLE "score_rollup_1m" ADD COLUMN "rev_hi" BIGINT;
