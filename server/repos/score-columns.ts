/**
 * Score rows column-wise, as the worker hands them to `insertScores`; NaN (or null) in the band
 * columns means "no band" (NULL). Its own module so the storage helpers (score-blocks,
 * score-minute-fold) and scores-repo depend on it rather than on each other.
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
