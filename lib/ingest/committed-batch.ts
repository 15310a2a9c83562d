/**
 * A batch of samples that one ingest commit has just written with contiguous `seq` values, in
 * block-row order (server/repos/storage/samples.ts's block rows). Ingest offers it to the detection worker (see
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

/**
 * Where a process sends its committed batches (the worker's pipeline, the hand-off client, or
 * the JetStream sample log). A sink that returns a promise is durable: ingest acknowledges the
 * samples only once it resolves, and answers with its error (503) when it rejects.
 */
export type CommitSink = (batch: CommittedBatch) => void | Promise<void>;

/** The batch of what a commit wrote (server/repos/storage/samples.ts's block rows). */
export function committedBatch(c: { firstSeq: number; rows: { rowStart: Int32Array; streamIds: Int32Array; tsMs: Float64Array; values: Float64Array } }): CommittedBatch {
  const { rowStart, streamIds, tsMs, values } = c.rows;
  return { firstSeq: c.firstSeq, rowStart, streamIds, tsMs, values };
}
