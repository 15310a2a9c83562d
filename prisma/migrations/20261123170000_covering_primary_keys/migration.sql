-- The hottest tables get covering primary keys instead of a primary key plus a second covering
-- index on the same columns: every ingested sample and every score then maintains one btree,
-- not two, and the UI's range reads stay index-only. Prisma's schema language cannot express
-- INCLUDE; prisma/schema.prisma documents it and `migrate diff` does not see it.

-- AlterTable
ALTER TABLE "sample" DROP CONSTRAINT "sample_pkey", ADD CONSTRAINT "sample_pkey" PRIMARY KEY ("stream_id", "ts") INCLUDE ("value");
DROP INDEX IF EXISTS "sample_covering_idx";

-- AlterTable
ALTER TABLE "score" DROP CONSTRAINT "score_pkey", ADD CONSTRAINT "score_pkey" PRIMARY KEY ("stream_id", "ts") INCLUDE ("score", "confidence", "expected", "lower", "upper");
DROP INDEX IF EXISTS "score_covering_idx";

-- AlterTable
ALTER TABLE "sample_rollup_1m" DROP CONSTRAINT "sample_rollup_1m_pkey", ADD CONSTRAINT "sample_rollup_1m_pkey" PRIMARY KEY ("stream_id", "bucket") INCLUDE ("min", "max", "sum", "count");
DROP INDEX IF EXISTS "sample_rollup_1m_covering_idx";
