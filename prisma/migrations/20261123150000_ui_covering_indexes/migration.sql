-- Covering indexes for the UI's reads (bench/ui.bench.ts): index-only scans instead of one heap
-- page per row, since rows of one stream are scattered across pages (every write batch holds
-- all streams). Prisma's schema language cannot express INCLUDE, so these are declared here and
-- documented in schema.prisma; keep them when generating later migrations.

-- CreateIndex
CREATE INDEX "sample_rollup_1m_covering_idx" ON "sample_rollup_1m"("stream_id", "bucket") INCLUDE ("min", "max", "sum", "count");

-- CreateIndex
CREATE INDEX "sample_covering_idx" ON "sample"("stream_id", "ts") INCLUDE ("value");

-- CreateIndex
CREATE INDEX "score_covering_idx" ON "score"("stream_id", "ts") INCLUDE ("score", "confidence", "expected", "lower", "upper");
