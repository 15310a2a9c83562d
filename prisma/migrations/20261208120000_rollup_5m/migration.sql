-- Five-minute tier of both one-minute rollups, for chart ranges of days: a 7-day stream page
-- reads 2,016 rows per series instead of 10,080 (a fifth of the index pages to fetch, often from
-- disk, and of the rows to aggregate). Prisma's schema language cannot express INCLUDE or
-- triggers: prisma/schema.prisma documents them and `migrate diff` does not see them.
--
-- The tier is kept by statement triggers on the one-minute tables, in the transaction that
-- changes them, whichever path writes them (the worker's COPY and merges, the rebuild after a
-- restart, retention, purge). A five-minute row always holds exactly the minute rows of its five
-- minutes, so it counts each sample once when they do (their watermark: server/repos/storage/
-- rollup.ts and scores.ts).
--  - New minutes are added to their row, and merged minutes (an upsert's DO UPDATE, which only
--    widens: LEAST, GREATEST, sums) add their change: under the row's lock, so concurrent
--    writers' additions commute. An upsert fires its UPDATE statement trigger before its INSERT
--    one; additions do not care.
--  - Deleted minutes, and updates that narrow a minute or move it, have their rows recounted
--    from the minutes, after locking those rows so the recount (a statement of its own, a new
--    snapshot) sees every writer that held one of them; a writer that comes later adds to it.

-- CreateTable
CREATE TABLE "sample_rollup_5m" (
    "stream_id" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "min" DOUBLE PRECISION NOT NULL,
    "max" DOUBLE PRECISION NOT NULL,
    "sum" DOUBLE PRECISION NOT NULL,
    "count" INTEGER NOT NULL,
    CONSTRAINT "sample_rollup_5m_pkey" PRIMARY KEY ("stream_id", "bucket") INCLUDE ("min", "max", "sum", "count")
);

-- Sums, not means, so minutes add: confidence_sum = Σ confidence·n, expected_sum = Σ expected·n
-- and expected_n = Σ n over the minutes with a forecast (a chart bucket's means are then exact).
-- CreateTable
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
);

-- Values ------------------------------------------------------------------------------------

CREATE FUNCTION "sample_rollup_5m_recount"(ids INTEGER[], buckets TIMESTAMPTZ[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM sample_rollup_5m r JOIN unnest(ids, buckets) AS k(stream_id, bucket) ON r.stream_id = k.stream_id AND r.bucket = k.bucket
    ORDER BY r.stream_id, r.bucket FOR UPDATE OF r;
  WITH k AS (SELECT DISTINCT stream_id, bucket FROM unnest(ids, buckets) AS k(stream_id, bucket)),
  agg AS (
    SELECT k.stream_id, k.bucket, min(m.min) AS min, max(m.max) AS max, sum(m.sum) AS sum, sum(m.count)::int AS count, count(m.stream_id) AS minutes
    FROM k LEFT JOIN sample_rollup_1m m ON m.stream_id = k.stream_id AND m.bucket >= k.bucket AND m.bucket < k.bucket + interval '5 minutes'
    GROUP BY 1, 2
  ), gone AS (
    DELETE FROM sample_rollup_5m r USING agg WHERE agg.minutes = 0 AND r.stream_id = agg.stream_id AND r.bucket = agg.bucket
  )
  INSERT INTO sample_rollup_5m AS r (stream_id, bucket, min, max, sum, count)
  SELECT stream_id, bucket, min, max, sum, count FROM agg WHERE minutes > 0 ORDER BY 1, 2
  ON CONFLICT (stream_id, bucket) DO UPDATE SET min = EXCLUDED.min, max = EXCLUDED.max, sum = EXCLUDED.sum, count = EXCLUDED.count;
END $$;

CREATE FUNCTION "sample_rollup_5m_on_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO sample_rollup_5m AS r (stream_id, bucket, min, max, sum, count)
  SELECT stream_id, date_bin('5 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00'), min(min), max(max), sum(sum), sum(count)::int
  FROM new_minutes GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (stream_id, bucket) DO UPDATE SET
    min = LEAST(r.min, EXCLUDED.min), max = GREATEST(r.max, EXCLUDED.max), sum = r.sum + EXCLUDED.sum, count = r.count + EXCLUDED.count;
  RETURN NULL;
END $$;

-- An update that widens its minutes in place (a merge) adds its change; any other is recounted.
CREATE FUNCTION "sample_rollup_5m_on_update"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids INTEGER[];
  buckets TIMESTAMPTZ[];
BEGIN
  IF EXISTS (SELECT stream_id, bucket FROM old_minutes EXCEPT SELECT stream_id, bucket FROM new_minutes)
     OR EXISTS (SELECT 1 FROM old_minutes o JOIN new_minutes n ON n.stream_id = o.stream_id AND n.bucket = o.bucket
       WHERE n.min > o.min OR n.max < o.max) THEN
    SELECT array_agg(k.stream_id), array_agg(k.bucket) INTO ids, buckets FROM (
      SELECT stream_id, date_bin('5 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') FROM old_minutes UNION SELECT stream_id, date_bin('5 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') FROM new_minutes) AS k(stream_id, bucket);
    PERFORM sample_rollup_5m_recount(ids, buckets);
  ELSE
    INSERT INTO sample_rollup_5m AS r (stream_id, bucket, min, max, sum, count)
    SELECT n.stream_id, date_bin('5 minutes', n.bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00'), min(n.min), max(n.max), sum(n.sum - o.sum), sum(n.count - o.count)::int
    FROM old_minutes o JOIN new_minutes n ON n.stream_id = o.stream_id AND n.bucket = o.bucket GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (stream_id, bucket) DO UPDATE SET
      min = LEAST(r.min, EXCLUDED.min), max = GREATEST(r.max, EXCLUDED.max), sum = r.sum + EXCLUDED.sum, count = r.count + EXCLUDED.count;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION "sample_rollup_5m_on_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids INTEGER[];
  buckets TIMESTAMPTZ[];
BEGIN
  SELECT array_agg(k.stream_id), array_agg(k.bucket) INTO ids, buckets FROM (SELECT DISTINCT stream_id, date_bin('5 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') FROM old_minutes) AS k(stream_id, bucket);
  IF ids IS NOT NULL THEN PERFORM sample_rollup_5m_recount(ids, buckets); END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION "sample_rollup_5m_on_truncate"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE sample_rollup_5m;
  RETURN NULL;
END $$;

CREATE TRIGGER "sample_rollup_5m_insert" AFTER INSERT ON "sample_rollup_1m" REFERENCING NEW TABLE AS new_minutes
  FOR EACH STATEMENT EXECUTE FUNCTION sample_rollup_5m_on_insert();
CREATE TRIGGER "sample_rollup_5m_update" AFTER UPDATE ON "sample_rollup_1m" REFERENCING OLD TABLE AS old_minutes NEW TABLE AS new_minutes
  FOR EACH STATEMENT EXECUTE FUNCTION sample_rollup_5m_on_update();
CREATE TRIGGER "sample_rollup_5m_delete" AFTER DELETE ON "sample_rollup_1m" REFERENCING OLD TABLE AS old_minutes
  FOR EACH STATEMENT EXECUTE FUNCTION sample_rollup_5m_on_delete();
CREATE TRIGGER "sample_rollup_5m_truncate" AFTER TRUNCATE ON "sample_rollup_1m"
  FOR EACH STATEMENT EXECUTE FUNCTION sample_rollup_5m_on_truncate();

-- Scores ------------------------------------------------------------------------------------

CREATE FUNCTION "score_rollup_5m_recount"(ids INTEGER[], buckets TIMESTAMPTZ[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM score_rollup_5m r JOIN unnest(ids, buckets) AS k(stream_id, bucket) ON r.stream_id = k.stream_id AND r.bucket = k.bucket
    ORDER BY r.stream_id, r.bucket FOR UPDATE OF r;
  WITH k AS (SELECT DISTINCT stream_id, bucket FROM unnest(ids, buckets) AS k(stream_id, bucket)),
  agg AS (
    SELECT k.stream_id, k.bucket, coalesce(max(m.score) FILTER (WHERE m.score <> 'NaN'), 'NaN') AS score,
           sum(m.confidence * m.n) AS confidence_sum, coalesce(sum(m.expected * m.n), 0) AS expected_sum,
           coalesce(sum(m.n) FILTER (WHERE m.expected IS NOT NULL), 0)::int AS expected_n,
           min(m.lower) AS lower, max(m.upper) AS upper, sum(m.n)::int AS n, count(m.stream_id) AS minutes
    FROM k LEFT JOIN score_rollup_1m m ON m.stream_id = k.stream_id AND m.bucket >= k.bucket AND m.bucket < k.bucket + interval '5 minutes'
    GROUP BY 1, 2
  ), gone AS (
    DELETE FROM score_rollup_5m r USING agg WHERE agg.minutes = 0 AND r.stream_id = agg.stream_id AND r.bucket = agg.bucket
  )
  INSERT INTO score_rollup_5m AS r (stream_id, bucket, score, confidence_sum, expected_sum, expected_n, lower, upper, n)
  SELECT stream_id, bucket, score, confidence_sum, expected_sum, expected_n, lower, upper, n FROM agg WHERE minutes > 0 ORDER BY 1, 2
  ON CONFLICT (stream_id, bucket) DO UPDATE SET score = EXCLUDED.score, confidence_sum = EXCLUDED.confidence_sum, expected_sum = EXCLUDED.expected_sum,
    expected_n = EXCLUDED.expected_n, lower = EXCLUDED.lower, upper = EXCLUDED.upper, n = EXCLUDED.n;
END $$;

CREATE FUNCTION "score_rollup_5m_on_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO score_rollup_5m AS r (stream_id, bucket, score, confidence_sum, expected_sum, expected_n, lower, upper, n)
  SELECT stream_id, date_bin('5 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00'), coalesce(max(score) FILTER (WHERE score <> 'NaN'), 'NaN'),
         sum(confidence * n), coalesce(sum(expected * n), 0), coalesce(sum(n) FILTER (WHERE expected IS NOT NULL), 0)::int,
         min(lower), max(upper), sum(n)::int
  FROM new_minutes GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (stream_id, bucket) DO UPDATE SET
    score = CASE WHEN r.score = 'NaN' THEN EXCLUDED.score WHEN EXCLUDED.score = 'NaN' THEN r.score ELSE GREATEST(r.score, EXCLUDED.score) END,
    confidence_sum = r.confidence_sum + EXCLUDED.confidence_sum,
    expected_sum = r.expected_sum + EXCLUDED.expected_sum,
    expected_n = r.expected_n + EXCLUDED.expected_n,
    lower = LEAST(r.lower, EXCLUDED.lower),
    upper = GREATEST(r.upper, EXCLUDED.upper),
    n = r.n + EXCLUDED.n;
  RETURN NULL;
END $$;

-- An update that widens its minutes in place (a merge) adds its change; any other is recounted.
CREATE FUNCTION "score_rollup_5m_on_update"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids INTEGER[];
  buckets TIMESTAMPTZ[];
BEGIN
  IF EXISTS (SELECT stream_id, bucket FROM old_minutes EXCEPT SELECT stream_id, bucket FROM new_minutes)
     OR EXISTS (SELECT 1 FROM old_minutes o JOIN new_minutes n ON n.stream_id = o.stream_id AND n.bucket = o.bucket
       WHERE (o.score <> 'NaN' AND (n.score = 'NaN' OR n.score < o.score))
         OR (o.lower IS NOT NULL AND (n.lower IS NULL OR n.lower > o.lower)) OR (o.upper IS NOT NULL AND (n.upper IS NULL OR n.upper < o.upper))) THEN
    SELECT array_agg(k.stream_id), array_agg(k.bucket) INTO ids, buckets FROM (
      SELECT stream_id, date_bin('5 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') FROM old_minutes UNION SELECT stream_id, date_bin('5 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') FROM new_minutes) AS k(stream_id, bucket);
    PERFORM score_rollup_5m_recount(ids, buckets);
  ELSE
    INSERT INTO score_rollup_5m AS r (stream_id, bucket, score, confidence_sum, expected_sum, expected_n, lower, upper, n)
    SELECT n.stream_id, date_bin('5 minutes', n.bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00'), coalesce(max(n.score) FILTER (WHERE n.score <> 'NaN'), 'NaN'),
           sum(n.confidence * n.n - o.confidence * o.n), sum(coalesce(n.expected * n.n, 0) - coalesce(o.expected * o.n, 0)),
           sum(CASE WHEN n.expected IS NULL THEN 0 ELSE n.n END - CASE WHEN o.expected IS NULL THEN 0 ELSE o.n END)::int,
           min(n.lower), max(n.upper), sum(n.n - o.n)::int
    FROM old_minutes o JOIN new_minutes n ON n.stream_id = o.stream_id AND n.bucket = o.bucket GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (stream_id, bucket) DO UPDATE SET
      score = CASE WHEN r.score = 'NaN' THEN EXCLUDED.score WHEN EXCLUDED.score = 'NaN' THEN r.score ELSE GREATEST(r.score, EXCLUDED.score) END,
      confidence_sum = r.confidence_sum + EXCLUDED.confidence_sum,
      expected_sum = r.expected_sum + EXCLUDED.expected_sum,
      expected_n = r.expected_n + EXCLUDED.expected_n,
      lower = LEAST(r.lower, EXCLUDED.lower),
      upper = GREATEST(r.upper, EXCLUDED.upper),
      n = r.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION "score_rollup_5m_on_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids INTEGER[];
  buckets TIMESTAMPTZ[];
BEGIN
  SELECT array_agg(k.stream_id), array_agg(k.bucket) INTO ids, buckets FROM (SELECT DISTINCT stream_id, date_bin('5 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') FROM old_minutes) AS k(stream_id, bucket);
  IF ids IS NOT NULL THEN PERFORM score_rollup_5m_recount(ids, buckets); END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION "score_rollup_5m_on_truncate"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE score_rollup_5m;
  RETURN NULL;
END $$;

CREATE TRIGGER "score_rollup_5m_insert" AFTER INSERT ON "score_rollup_1m" REFERENCING NEW TABLE AS new_minutes
  FOR EACH STATEMENT EXECUTE FUNCTION score_rollup_5m_on_insert();
CREATE TRIGGER "score_rollup_5m_update" AFTER UPDATE ON "score_rollup_1m" REFERENCING OLD TABLE AS old_minutes NEW TABLE AS new_minutes
  FOR EACH STATEMENT EXECUTE FUNCTION score_rollup_5m_on_update();
CREATE TRIGGER "score_rollup_5m_delete" AFTER DELETE ON "score_rollup_1m" REFERENCING OLD TABLE AS old_minutes
  FOR EACH STATEMENT EXECUTE FUNCTION score_rollup_5m_on_delete();
CREATE TRIGGER "score_rollup_5m_truncate" AFTER TRUNCATE ON "score_rollup_1m"
  FOR EACH STATEMENT EXECUTE FUNCTION score_rollup_5m_on_truncate();

-- The minutes stored so far. After the triggers: CREATE TRIGGER locks the minute tables until
-- this migration commits, so no minute is written between this read and the triggers.
INSERT INTO "sample_rollup_5m" ("stream_id", "bucket", "min", "max", "sum", "count")
   SELECT stream_id, date_bin('5 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00'), min(min), max(max), sum(sum), sum(count)::int
   FROM "sample_rollup_1m" GROUP BY 1, 2;

INSERT INTO "score_rollup_5m" ("stream_id", "bucket", "score", "confidence_sum", "expected_sum", "expected_n", "lower", "upper", "n")
   SELECT stream_id, date_bin('5 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00'), coalesce(max(score) FILTER (WHERE score <> 'NaN'), 'NaN'),
          sum(confidence * n), coalesce(sum(expected * n), 0), coalesce(sum(n) FILTER (WHERE expected IS NOT NULL), 0)::int,
          min(lower), max(upper), sum(n)::int
   FROM "score_rollup_1m" GROUP BY 1, 2;
