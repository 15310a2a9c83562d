/**
 * Scores, rollups and stream rows are derived data: a crash can lose the last few hundred
 * milliseconds of them, which the worker recomputes anyway (it resumes from its snapshot
 * cursor, and the snapshot's own synchronous commit flushes every earlier commit's WAL). So
 * their transactions skip the WAL flush wait; samples (what a 2xx promises) stay synchronous.
 */
export const ASYNC_COMMIT = "SET LOCAL synchronous_commit TO off";
