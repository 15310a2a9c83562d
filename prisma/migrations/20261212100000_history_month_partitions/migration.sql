-- History in month partitions. One table per day and parent is right for live data (retention
-- drops a day at a time), but a write whose samples span years made one set of six tables per
-- day: a single remote_write request with one sample on each day since 1970 asked for 120,000
-- tables, and an import of three years of history for 6,500, each a probe in every read that is
-- not bounded by time (the worker's "after seq X"). Days before `recent_from` (the caller's clock
-- less 62 days: server/repos/storage/time-partitions.ts) now go into one partition per calendar
-- month, named <parent>_pYYYYMM, unless that month already has day partitions (made while it was
-- recent), in which case the day gets its own as before. A month partition never reaches the
-- last 31 days, so live writes keep their day partitions. 56 years of history are at most
-- 672 month partitions per parent, however the requests are cut.
CREATE OR REPLACE FUNCTION "omen_time_partitions"(days DATE[], recent_from DATE) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
  d DATE;
  m DATE;
  parent TEXT;
  child TEXT;
  made INTEGER := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(1769);
  FOREACH d IN ARRAY days LOOP
    m := date_trunc('month', d)::date;
    FOREACH parent IN ARRAY ARRAY['sample_block', 'score_block', 'sample_rollup_1m', 'score_rollup_1m', 'sample_rollup_5m', 'score_rollup_5m'] LOOP
      -- covered by its day's partition or its month's
      CONTINUE WHEN to_regclass(format('%I', parent || '_p' || to_char(d, 'YYYYMMDD'))) IS NOT NULL
        OR to_regclass(format('%I', parent || '_p' || to_char(m, 'YYYYMM'))) IS NOT NULL;
      IF d < recent_from AND NOT EXISTS (
        SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = to_regclass(format('%I', parent)) AND c.relname LIKE parent || '_p' || to_char(m, 'YYYYMM') || '__'
      ) THEN
        child := parent || '_p' || to_char(m, 'YYYYMM');
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING INDEXES)', child, parent);
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, child,
          m::timestamp AT TIME ZONE 'UTC', (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
      ELSE
        child := parent || '_p' || to_char(d, 'YYYYMMDD');
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING INDEXES)', child, parent);
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, child,
          d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
      END IF;
      made := made + 1;
    END LOOP;
  END LOOP;
  RETURN made;
END $$;

-- the one-argument form (every day its own partition) is gone: callers name their clock
DROP FUNCTION "omen_time_partitions"(DATE[]);
