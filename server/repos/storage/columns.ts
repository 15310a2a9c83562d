/**
 * The column types of the storage engine (samples, scores and their one-minute rollups), in one
 * place: what ingest, the worker and the codecs hand each other. Everything column-wise (one
 * array per field) because the hot paths encode them straight into COPY payloads.
 */

// Samples

/** Column-oriented batch of samples: the shape every ingest path produces. */
export interface SampleColumns {
  streamIds: Int32Array | number[];
  tsMs: Float64Array | number[];
  values: Float64Array | number[];
}

/** Samples column-wise, sorted by stream id (stable). */
export interface SortedSamples {
  streamIds: Int32Array;
  tsMs: Float64Array;
  values: Float64Array;
}

/**
 * A batch packed into block rows, ordered by (timestamp, block). The per-sample columns are in row order (row r's samples are
 * `rowStart[r]` … `rowStart[r + 1] - 1`, slots ascending), which is also the order the hand-off
 * gives them to the worker.
 */
export interface SampleRows {
  rows: number;
  block: Int32Array;
  rowTs: Float64Array;
  /** rows + 1 entries */
  rowStart: Int32Array;
  streamIds: Int32Array;
  tsMs: Float64Array;
  values: Float64Array;
}

/**
 * The samples one ingest commit has just written with contiguous `seq` values, in block-row
 * order (`insertSamplesReturning`). Ingest offers it to the detection worker (the hand-off,
 * server/worker/handoff.ts), so that the worker scores it from memory instead of reading back
 * what ingest has just written. It is only ever a shortcut: the worker takes a batch only when
 * it starts exactly at its cursor, and otherwise reads the database as always, so a lost, late
 * or duplicated batch changes nothing but speed.
 */
export interface CommittedBatch {
  /** seq of the first block row; row r has seq firstSeq + r */
  firstSeq: number;
  /** rows + 1 entries: row r's samples are rowStart[r] … rowStart[r + 1] - 1 */
  rowStart: Int32Array;
  streamIds: Int32Array;
  tsMs: Float64Array;
  values: Float64Array;
}

/** Samples read back after a cursor (`readSamplesAfter`), each with its block row's seq. */
export interface NewSampleColumns {
  rows: number;
  /** seq of the last row (the reader's next cursor); 0 when there are no rows */
  lastSeq: number;
  seq: Float64Array;
  streamIds: Int32Array;
  tsMs: Float64Array;
  values: Float64Array;
}

/** One or more streams' stored samples in time order (the backtest's replay). */
export interface RawSamples {
  streamIds: Int32Array;
  tsMs: Float64Array;
  values: Float64Array;
  /** more than `limit` samples were in the range: the oldest were left out */
  truncated: boolean;
}

// The value rollup (sample_rollup_1m)

/** One (stream, minute) row of sample_rollup_1m. */
export interface RollupRow {
  streamId: number;
  bucketMs: number;
  min: number;
  max: number;
  sum: number;
  count: number;
}

/** Rollup rows column-wise (what the worker's rollup buffer hands out). */
export interface RollupColumns {
  rows: number;
  streamIds: Int32Array;
  bucketMs: Float64Array;
  min: Float64Array;
  max: Float64Array;
  sum: Float64Array;
  count: Int32Array;
}

// Scores (score_block, score_rollup_1m)

/**
 * Score rows column-wise, as the worker hands them to `insertScores`; NaN (or null) in the band
 * columns means "no band" (NULL).
 */
export interface ScoreColumns {
  streamIds: ArrayLike<number>;
  tsMs: ArrayLike<number>;
  score: ArrayLike<number>;
  confidence: ArrayLike<number>;
  expected: ArrayLike<number | null>;
  lower: ArrayLike<number | null>;
  upper: ArrayLike<number | null>;
}

/** Block rows column-wise; `data` is rows × BLOCK_BYTES, row r at r·BLOCK_BYTES. */
export interface BlockRows {
  n: number;
  block: Int32Array;
  tsMs: Float64Array;
  mask: Int32Array;
  data: Uint8Array;
}

/** One-minute score rows, column-wise; NaN = no value (no band, or no non-NaN score). */
export interface ScoreMinuteRows {
  streamIds: number[];
  bucketMs: number[];
  score: number[];
  confidence: number[];
  expected: number[];
  lower: number[];
  upper: number[];
  n: number[];
}

// Stream rows (the overview's latest values and sparklines)

/**
 * Sparkline points for the rows of one `updateStreamRecent` call: row r's points (time order,
 * at most SPARK_POINTS) are `count[r]` float64s of `data` from t[r] (times), v[r] (values) and
 * s[r] (scores). NaN = no value / not scored.
 */
export interface SparkColumns {
  data: Float64Array;
  t: Int32Array;
  v: Int32Array;
  s: Int32Array;
  count: Int32Array;
}
