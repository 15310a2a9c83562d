/**
 * A batch of samples that one ingest commit has just written with contiguous `seq` values, in
 * block-row order (samples-repo's block rows). Ingest offers it to the detection worker (see
 * server/worker/handoff), so that the worker scores it from memory instead of reading back from
 * the database what ingest has just written. It is only ever a shortcut: the worker takes a
 * batch only when it starts exactly at its cursor, and otherwise reads the database as always,
 * so a lost, late or duplicated batch changes nothing but speed.
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

/** Where a process sends its committed batches (the worker's pipeline, or the hand-off client). */
export type CommitSink = (batch: CommittedBatch) => void;

/** The batch of what a commit wrote (samples-repo's block rows). */
export function committedBatch(c: { firstSeq: number; rows: { rowStart: Int32Array; streamIds: Int32Array; tsMs: Float64Array; values: Float64Array } }): CommittedBatch {
  const { rowStart, streamIds, tsMs, values } = c.rows;
  return { firstSeq: c.firstSeq, rowStart, streamIds, tsMs, values };
}
