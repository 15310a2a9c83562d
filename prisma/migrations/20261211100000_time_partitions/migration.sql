-- Time partitions: the block tables and both rollup tiers are partitioned by day (UTC) on their
-- time column, so retention drops whole days (server/repos/storage/retention.ts) instead of
-- deleting rows, and a day's writes touch one small set of indexes. Partitions are made by
-- omen_time_partitions() for every table at once: ahead of live time by the worker, and on
-- demand before a write lands for a day without one (server/repos/storage/time-partitions.ts).
-- There is no DEFAULT partition: rows parked there would block creating their day later.
--
-- A partitioned table's primary key must hold its partition key, so the block tables' keys
-- become (seq, ts) and (rev, ts); seq and rev are still drawn from their own sequences, and the
-- worker's "everything after seq X" reads each day's (seq, ts) index (a merge of few probes).

-- Creates the day partitions of every time-partitioned table for `days` (UTC) that do not
-- exist yet; returns how many tables it made. Concurrent callers (several web processes and
-- workers) queue on one advisory lock, so each partition is made once. CREATE + ATTACH instead
-- of CREATE ... PARTITION OF: attaching takes SHARE UPDATE EXCLUSIVE on the parent, which lets
-- reads and writes of other days go on, where PARTITION OF would wait for, and then block, them.
CREATE FUNCTION "omen_time_partitions"(days DATE[]) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
  d DATE;
  parent TEXT;
  child TEXT;
  made INTEGER := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(1769);
  FOREACH d IN ARRAY days LOOP
    FOREACH parent IN ARRAY ARRAY['sample_block', 'score_block', 'sample_rollup_1m', 'score_rollup_1m', 'sample_rollup_5m', 'score_rollup_5m'] LOOP
      child := parent || '_p' || to_char(d, 'YYYYMMDD');
      CONTINUE WHEN to_regclass(format('%I', child)) IS NOT NULL;
      EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING INDEXES)', child, parent);
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, child,
        d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
      made := made + 1;
    END LOOP;
  END LOOP;
  RETURN made;
END $$;

-- The tables as they are, renamed out of the way (with their index names, which the new
-- tables reuse). The view over sample_block follows its table by OID: recreated below.
DROP VIEW "sample";
ALTER TABLE "sample_block" RENAME TO "sample_block_flat";
ALTER INDEX "sample_block_pkey" RENAME TO "sample_block_flat_pkey";
ALTER INDEX "sample_block_block_ts_idx" RENAME TO "sample_block_flat_block_ts_idx";
ALTER TABLE "score_block" RENAME TO "score_block_flat";
ALTER INDEX "score_block_pkey" RENAME TO "score_block_flat_pkey";
ALTER INDEX "score_block_block_ts_idx" RENAME TO "score_block_flat_block_ts_idx";
ALTER TABLE "sample_rollup_1m" RENAME TO "sample_rollup_1m_flat";
ALTER INDEX "sample_rollup_1m_pkey" RENAME TO "sample_rollup_1m_flat_pkey";
ALTER TABLE "score_rollup_1m" RENAME TO "score_rollup_1m_flat";
ALTER INDEX "score_rollup_1m_pkey" RENAME TO "score_rollup_1m_flat_pkey";
ALTER TABLE "sample_rollup_5m" RENAME TO "sample_rollup_5m_flat";
ALTER INDEX "sample_rollup_5m_pkey" RENAME TO "sample_rollup_5m_flat_pkey";
ALTER TABLE "score_rollup_5m" RENAME TO "score_rollup_5m_flat";
ALTER INDEX "score_rollup_5m_pkey" RENAME TO "score_rollup_5m_flat_pkey";
-- the sequences outlive the old tables (the cursors are positions in them)
ALTER SEQUENCE "sample_block_seq_seq" OWNED BY NONE;
ALTER SEQUENCE "score_block_rev_seq" OWNED BY NONE;

CREATE TABLE "sample_block" (
    "seq" BIGINT NOT NULL DEFAULT nextval('sample_block_seq_seq'),
    "block" INTEGER NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "vals" DOUBLE PRECISION[] NOT NULL,
    CONSTRAINT "sample_block_pkey" PRIMARY KEY ("seq", "ts")
) PARTITION BY RANGE ("ts");
CREATE INDEX "sample_block_block_ts_idx" ON "sample_block"("block", "ts");
ALTER SEQUENCE "sample_block_seq_seq" OWNED BY "sample_block"."seq";

CREATE TABLE "score_block" (
    "rev" BIGINT NOT NULL DEFAULT nextval('score_block_rev_seq'),
    "block" INTEGER NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "mask" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,
    CONSTRAINT "score_block_pkey" PRIMARY KEY ("rev", "ts")
) PARTITION BY RANGE ("ts");
CREATE INDEX "score_block_block_ts_idx" ON "score_block"("block", "ts");
-- 1 kB rows: stored inline and uncompressed (no TOAST work on the write path)
ALTER TABLE "score_block" ALTER COLUMN "data" SET STORAGE PLAIN;
ALTER SEQUENCE "score_block_rev_seq" OWNED BY "score_block"."rev";

CREATE TABLE "sample_rollup_1m" (
    "stream_id" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "min" DOUBLE PRECISION NOT NULL,
    "max" DOUBLE PRECISION NOT NULL,
    "sum" DOUBLE PRECISION NOT NULL,
    "count" INTEGER NOT NULL,
    CONSTRAINT "sample_rollup_1m_pkey" PRIMARY KEY ("stream_id", "bucket") INCLUDE ("min", "max", "sum", "count")
) PARTITION BY RANGE ("bucket");

CREATE TABLE "score_rollup_1m" (
    "stream_id" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "confidence" DOUBLE PRECISION NOT NULL,
    "expected" DOUBLE PRECISION,
    "lower" DOUBLE PRECISION,
    "upper" DOUBLE PRECISION,
    "n" INTEGER NOT NULL,
    "rev_hi" BIGINT,
    CONSTRAINT "score_rollup_1m_pkey" PRIMARY KEY ("stream_id", "bucket") INCLUDE ("score", "confidence", "expected", "lower", "upper", "n")
) PARTITION BY RANGE ("bucket");

CREATE TABLE "sample_rollup_5m" (
    "stream_id" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "min" DOUBLE PRECISION NOT NULL,
    "max" DOUBLE PRECISION NOT NULL,
    "sum" DOUBLE PRECISION NOT NULL,
    "count" INTEGER NOT NULL,
    CONSTRAINT "sample_rollup_5m_pkey" PRIMARY KEY ("stream_id", "bucket") INCLUDE ("min", "max", "sum", "count")
) PARTITION BY RANGE ("bucket");

CREATE TABLE "score_rollup_5m" (
    "stream_id" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "confidence_sum" DOUBLE PRECISION NOT NULL,
    "expected_sum" DOUBLE PRECISION NOT NULL,
    "expected_n" INTEGER NOT NULL,
    "lower" DOUBLE PRECISION,
    "upper" DOUBLE PRECISION,
    "n" INTEGER NOT NULL,
    CONSTRAINT "score_rollup_5m_pkey" PRIMARY KEY ("stream_id", "bucket") INCLUDE ("score", "confidence_sum", "expected_sum", "expected_n", "lower", "upper", "n")
) PARTITION BY RANGE ("bucket");

-- A day for every day that holds rows, and today and tomorrow for the first live writes.
SELECT "omen_time_partitions"(coalesce(array_agg(DISTINCT d), '{}')) FROM (
  SELECT (ts AT TIME ZONE 'UTC')::date FROM "sample_block_flat"
  UNION SELECT (ts AT TIME ZONE 'UTC')::date FROM "score_block_flat"
  UNION SELECT (bucket AT TIME ZONE 'UTC')::date FROM "sample_rollup_1m_flat"
  UNION SELECT (bucket AT TIME ZONE 'UTC')::date FROM "score_rollup_1m_flat"
  UNION SELECT (bucket AT TIME ZONE 'UTC')::date FROM "sample_rollup_5m_flat"
  UNION SELECT (bucket AT TIME ZONE 'UTC')::date FROM "score_rollup_5m_flat"
  UNION SELECT (now() AT TIME ZONE 'UTC')::date
  UNION SELECT (now() AT TIME ZONE 'UTC')::date + 1
) x(d);

-- Existing rows, kept with their seq and rev (the worker's cursors and the score minutes'
-- rev_hi refer to them). The five-minute tiers are copied as they are, before the one-minute
-- tables get their triggers, so no minute is added to them twice.
INSERT INTO "sample_block" ("seq", "block", "ts", "vals") SELECT "seq", "block", "ts", "vals" FROM "sample_block_flat";
INSERT INTO "score_block" ("rev", "block", "ts", "mask", "data") SELECT "rev", "block", "ts", "mask", "data" FROM "score_block_flat";
INSERT INTO "sample_rollup_1m" SELECT "stream_id", "bucket", "min", "max", "sum", "count" FROM "sample_rollup_1m_flat";
INSERT INTO "score_rollup_1m" SELECT "stream_id", "bucket", "score", "confidence", "expected", "lower", "upper", "n", "rev_hi" FROM "score_rollup_1m_flat";
INSERT INTO "sample_rollup_5m" SELECT "stream_id", "bucket", "min", "max", "sum", "count" FROM "sample_rollup_5m_flat";
INSERT INTO "score_rollup_5m" SELECT "stream_id", "bucket", "score", "confidence_sum", "expected_sum", "expected_n", "lower", "upper", "n" FROM "score_rollup_5m_flat";

DROP TABLE "sample_block_flat", "score_block_flat", "sample_rollup_1m_flat", "score_rollup_1m_flat", "sample_rollup_5m_flat", "score_rollup_5m_flat";

-- The five-minute tiers' statement triggers (functions: migration 20261208120000_rollup_5m),
-- on the partitioned one-minute tables: their transition tables hold the rows of every day.
CREATE TRIGGER "sample_rollup_5m_insert" AFTER INSERT ON "sample_rollup_1m" REFERENCING NEW TABLE AS new_minutes
  FOR EACH STATEMENT EXECUTE FUNCTION sample_rollup_5m_on_insert();
CREATE TRIGGER "sample_rollup_5m_update" AFTER UPDATE ON "sample_rollup_1m" REFERENCING OLD TABLE AS old_minutes NEW TABLE AS new_minutes
  FOR EACH STATEMENT EXECUTE FUNCTION sample_rollup_5m_on_update();
CREATE TRIGGER "sample_rollup_5m_delete" AFTER DELETE ON "sample_rollup_1m" REFERENCING OLD TABLE AS old_minutes
  FOR EACH STATEMENT EXECUTE FUNCTION sample_rollup_5m_on_delete();
CREATE TRIGGER "sample_rollup_5m_truncate" AFTER TRUNCATE ON "sample_rollup_1m"
  FOR EACH STATEMENT EXECUTE FUNCTION sample_rollup_5m_on_truncate();
CREATE TRIGGER "score_rollup_5m_insert" AFTER INSERT ON "score_rollup_1m" REFERENCING NEW TABLE AS new_minutes
  FOR EACH STATEMENT EXECUTE FUNCTION score_rollup_5m_on_insert();
CREATE TRIGGER "score_rollup_5m_update" AFTER UPDATE ON "score_rollup_1m" REFERENCING OLD TABLE AS old_minutes NEW TABLE AS new_minutes
  FOR EACH STATEMENT EXECUTE FUNCTION score_rollup_5m_on_update();
CREATE TRIGGER "score_rollup_5m_delete" AFTER DELETE ON "score_rollup_1m" REFERENCING OLD TABLE AS old_minutes
  FOR EACH STATEMENT EXECUTE FUNCTION score_rollup_5m_on_delete();
CREATE TRIGGER "score_rollup_5m_truncate" AFTER TRUNCATE ON "score_rollup_1m"
  FOR EACH STATEMENT EXECUTE FUNCTION score_rollup_5m_on_truncate();

-- The five-minute recount (migration 20261208120000_rollup_5m) joined its keys to the minute
-- and five-minute tables; on partitioned tables the planner, which prices a probe into each
-- day, preferred hashing a whole stream's days per key (16 s for one stream's 33 days). Each key
-- now probes its own five minutes (LATERAL: one index probe in the one day it prunes to).
CREATE OR REPLACE FUNCTION "sample_rollup_5m_recount"(ids INTEGER[], buckets TIMESTAMPTZ[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM (SELECT DISTINCT stream_id, bucket FROM unnest(ids, buckets) AS k(stream_id, bucket) ORDER BY 1, 2) k
    CROSS JOIN LATERAL (SELECT 1 FROM sample_rollup_5m r WHERE r.stream_id = k.stream_id AND r.bucket = k.bucket FOR UPDATE) r;
  WITH k AS (SELECT DISTINCT stream_id, bucket FROM unnest(ids, buckets) AS k(stream_id, bucket)),
  agg AS (
    SELECT k.stream_id, k.bucket, m.min, m.max, m.sum, m.count, m.minutes
    FROM k CROSS JOIN LATERAL (
      SELECT min(x.min) AS min, max(x.max) AS max, sum(x.sum) AS sum, sum(x.count)::int AS count, count(*) AS minutes
      FROM sample_rollup_1m x WHERE x.stream_id = k.stream_id AND x.bucket >= k.bucket AND x.bucket < k.bucket + interval '5 minutes') m
  ), gone AS (
    DELETE FROM sample_rollup_5m r USING agg WHERE agg.minutes = 0 AND r.stream_id = agg.stream_id AND r.bucket = agg.bucket
      AND r.bucket >= (SELECT min(bucket) FROM agg WHERE minutes = 0) AND r.bucket <= (SELECT max(bucket) FROM agg WHERE minutes = 0)
  )
  INSERT INTO sample_rollup_5m AS r (stream_id, bucket, min, max, sum, count)
  SELECT stream_id, bucket, min, max, sum, count FROM agg WHERE minutes > 0 ORDER BY 1, 2
  ON CONFLICT (stream_id, bucket) DO UPDATE SET min = EXCLUDED.min, max = EXCLUDED.max, sum = EXCLUDED.sum, count = EXCLUDED.count;
END $$;

CREATE OR REPLACE FUNCTION "score_rollup_5m_recount"(ids INTEGER[], buckets TIMESTAMPTZ[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM (SELECT DISTINCT stream_id, bucket FROM unnest(ids, buckets) AS k(stream_id, bucket) ORDER BY 1, 2) k
    CROSS JOIN LATERAL (SELECT 1 FROM score_rollup_5m r WHERE r.stream_id = k.stream_id AND r.bucket = k.bucket FOR UPDATE) r;
  WITH k AS (SELECT DISTINCT stream_id, bucket FROM unnest(ids, buckets) AS k(stream_id, bucket)),
  agg AS (
    SELECT k.stream_id, k.bucket, m.score, m.confidence_sum, m.expected_sum, m.expected_n, m.lower, m.upper, m.n, m.minutes
    FROM k CROSS JOIN LATERAL (
      SELECT coalesce(max(x.score) FILTER (WHERE x.score <> 'NaN'), 'NaN') AS score,
             sum(x.confidence * x.n) AS confidence_sum, coalesce(sum(x.expected * x.n), 0) AS expected_sum,
             coalesce(sum(x.n) FILTER (WHERE x.expected IS NOT NULL), 0)::int AS expected_n,
             min(x.lower) AS lower, max(x.upper) AS upper, sum(x.n)::int AS n, count(*) AS minutes
      FROM score_rollup_1m x WHERE x.stream_id = k.stream_id AND x.bucket >= k.bucket AND x.bucket < k.bucket + interval '5 minutes') m
  ), gone AS (
    DELETE FROM score_rollup_5m r USING agg WHERE agg.minutes = 0 AND r.stream_id = agg.stream_id AND r.bucket = agg.bucket
      AND r.bucket >= (SELECT min(bucket) FROM agg WHERE minutes = 0) AND r.bucket <= (SELECT max(bucket) FROM agg WHERE minutes = 0)
  )
  INSERT INTO score_rollup_5m AS r (stream_id, bucket, score, confidence_sum, expected_sum, expected_n, lower, upper, n)
  SELECT stream_id, bucket, score, confidence_sum, expected_sum, expected_n, lower, upper, n FROM agg WHERE minutes > 0 ORDER BY 1, 2
  ON CONFLICT (stream_id, bucket) DO UPDATE SET score = EXCLUDED.score, confidence_sum = EXCLUDED.confidence_sum, expected_sum = EXCLUDED.expected_sum,
    expected_n = EXCLUDED.expected_n, lower = EXCLUDED.lower, upper = EXCLUDED.upper, n = EXCLUDED.n;
END $$;

-- One row per sample, for ad-hoc SQL (the application reads the blocks).
CREATE VIEW "sample" AS
  SELECT (b."block" * 32 + u.k - 1)::int AS "stream_id", b."ts", u.value AS "value", b."seq"
  FROM "sample_block" b CROSS JOIN LATERAL unnest(b."vals") WITH ORDINALITY AS u(value, k)
  WHERE u.value IS NOT NULL;
