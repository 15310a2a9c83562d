-- Scores move from one row per (stream, ts) to one row per (block of 32 stream ids, ts): see
-- server/repos/score-blocks.ts for the layout. A second indexed row per sample cost PostgreSQL
-- as much as the sample itself; a block row carries up to 32 scores.
CREATE TABLE "score_block" (
    "rev" BIGSERIAL NOT NULL,
    "block" INTEGER NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "mask" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,
    CONSTRAINT "score_block_pkey" PRIMARY KEY ("rev")
);
CREATE INDEX "score_block_block_ts_idx" ON "score_block"("block", "ts");

-- One-minute scores per stream, for long chart ranges: index-only scans of one stream.
CREATE TABLE "score_rollup_1m" (
    "stream_id" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "confidence" DOUBLE PRECISION NOT NULL,
    "expected" DOUBLE PRECISION,
    "lower" DOUBLE PRECISION,
    "upper" DOUBLE PRECISION,
    "n" INTEGER NOT NULL,
    CONSTRAINT "score_rollup_1m_pkey" PRIMARY KEY ("stream_id", "bucket") INCLUDE ("score", "confidence", "expected", "lower", "upper", "n")
);

-- 1 kB rows: stored inline and uncompressed (no TOAST work on the write path).
ALTER TABLE "score_block" ALTER COLUMN "data" SET STORAGE PLAIN;

-- Existing scores, packed: slot k of block b is stream b·32 + k; absent slots are zero bytes.
-- (Generated from server/repos/score-pack-sql.ts, which benches that seed scores also use.)
INSERT INTO "score_block" ("block", "ts", "mask", "data")
   SELECT k.block, k.t, bit_or(CASE WHEN r.stream_id IS NULL THEN 0 ELSE 1 << g.slot END),
          string_agg(coalesce(float4send(r.score::real) || float4send(r.confidence::real) || float8send(coalesce(r.expected, 'NaN'))
   || float8send(coalesce(r.lower, 'NaN')) || float8send(coalesce(r.upper, 'NaN')), decode(repeat('00', 32), 'hex')), ''::bytea ORDER BY g.slot)
   FROM (SELECT DISTINCT stream_id / 32 AS block, t FROM (SELECT stream_id, ts AS t, score, confidence, expected, lower, upper FROM "score") x) k
   CROSS JOIN generate_series(0, 31) g(slot)
   LEFT JOIN (SELECT stream_id, ts AS t, score, confidence, expected, lower, upper FROM "score") r ON r.stream_id = k.block * 32 + g.slot AND r.t = k.t
   GROUP BY k.block, k.t
   ORDER BY k.t;

INSERT INTO "score_rollup_1m" ("stream_id", "bucket", "score", "confidence", "expected", "lower", "upper", "n")
   SELECT stream_id, date_trunc('minute', ts), coalesce(max(score) FILTER (WHERE score <> 'NaN'), 'NaN'),
          avg(confidence), avg(expected), min(lower), max(upper), count(*)
   FROM "score" GROUP BY 1, 2;

DROP TABLE "score";
