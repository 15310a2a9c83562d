-- AlterTable
ALTER TABLE "stream" ADD COLUMN     "spark_s" BYTEA,
ADD COLUMN     "spark_t" BYTEA,
ADD COLUMN     "spark_v" BYTEA;
