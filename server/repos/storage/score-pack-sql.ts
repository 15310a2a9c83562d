/**
 * Packs rows of the old one-row-per-score layout, in a table named `score` (stream_id, ts,
 * score, confidence, expected, lower, upper), into score blocks (layout: score-blocks.ts; slot
 * k of block b is stream b·32 + k, absent slots are zero bytes) and per-stream one-minute rows.
 * Migration 20261126160000 ran the same statements once; its test runs them again. Hash joins
 * throughout: no index on `score` is needed.
 */
const slotBytes = (r: string, score: string) =>
  `float4send(${score}::real) || float4send(${r}.confidence::real) || float8send(coalesce(${r}.expected, 'NaN'))
   || float8send(coalesce(${r}.lower, 'NaN')) || float8send(coalesce(${r}.upper, 'NaN'))`;

const packInto = (table: string, timeCol: string, rows: string) =>
  `INSERT INTO "${table}" ("block", "${timeCol}", "mask", "data")
   SELECT k.block, k.t, bit_or(CASE WHEN r.stream_id IS NULL THEN 0 ELSE 1 << g.slot END),
          string_agg(coalesce(${slotBytes("r", "r.score")}, decode(repeat('00', 32), 'hex')), ''::bytea ORDER BY g.slot)
   FROM (SELECT DISTINCT stream_id / 32 AS block, t FROM (${rows}) x) k
   CROSS JOIN generate_series(0, 31) g(slot)
   LEFT JOIN (${rows}) r ON r.stream_id = k.block * 32 + g.slot AND r.t = k.t
   GROUP BY k.block, k.t
   ORDER BY k.t`;

export const PACK_SCORE_ROWS_SQL = [
  packInto("score_block", "ts", `SELECT stream_id, ts AS t, score, confidence, expected, lower, upper FROM "score"`),
  `INSERT INTO "score_rollup_1m" ("stream_id", "bucket", "score", "confidence", "expected", "lower", "upper", "n")
   SELECT stream_id, date_trunc('minute', ts), coalesce(max(score) FILTER (WHERE score <> 'NaN'), 'NaN'),
          avg(confidence), avg(expected), min(lower), max(upper), count(*)
   FROM "score" GROUP BY 1, 2`,
];
