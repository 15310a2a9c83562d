/**
 * Ranks the streams of one group (a host, a source, an uploaded table) by their contribution to
 * the group's current anomaly, strictly causally: only the rows seen so far count.
 *
 * A stream's contribution at a row is its own anomaly score (0–100, the calibrated evidence of
 * every detector on it, as a share of 100) plus its deviation from the forecast in forecast
 * sigmas over `zCap` (capped at 1): the score saturates at 100 for every clearly broken stream,
 * the deviation still orders them. Over an anomaly (a run of flagged rows) a stream's evidence is
 * its largest contribution so far, so a stream that moved first keeps its place when others
 * follow. On ASD this ordering found more labelled streams than a sum over the anomaly or a
 * decaying sum (docs/eval.md). Cost: O(streams) per row, O(streams·log streams) per ranking.
 */
export interface CauseRankerOptions {
  /** Deviation cap, in forecast sigmas. */
  zCap?: number;
}

/** What one scored row tells the ranker, per stream (aligned arrays). */
export interface CauseRow {
  /** Per-stream anomaly score 0–100. */
  score: ArrayLike<number>;
  /** The value the stream had (NaN = missing), the forecast for it and its sigma. */
  value: ArrayLike<number>;
  expected: ArrayLike<number>;
  sigma: ArrayLike<number>;
}

export interface RankedCause {
  stream: string;
  /** Share of the group's current evidence (0–1). */
  share: number;
}

export class CauseRanker {
  private readonly zCap: number;
  /** This row's contribution per stream. */
  readonly current: Float64Array;
  /** Largest contribution per stream since the current anomaly began (zero outside one). */
  readonly evidence: Float64Array;

  constructor(
    readonly streams: readonly string[],
    opts: CauseRankerOptions = {},
  ) {
    this.zCap = opts.zCap ?? 10;
    this.current = new Float64Array(streams.length);
    this.evidence = new Float64Array(streams.length);
  }

  /** This row's contribution of stream i (before decay). */
  contribution(row: CauseRow, i: number): number {
    const s = row.score[i]!;
    const x = row.value[i]!;
    const e = row.expected[i]!;
    const sd = row.sigma[i]!;
    let z = 0;
    if (x === x && e === e && sd > 0) z = Math.min(this.zCap, Math.abs(x - e) / sd);
    else if (x === x && e === e && x !== e) z = this.zCap;
    return (s === s ? s / 100 : 0) + z / this.zCap;
  }

  /** Takes a scored row; `flagged` = the row is part of an anomaly (an unflagged row ends it). */
  observe(row: CauseRow, flagged: boolean): void {
    const ev = this.evidence;
    const cur = this.current;
    for (let i = 0; i < ev.length; i++) {
      const c = this.contribution(row, i);
      cur[i] = c;
      ev[i] = flagged ? Math.max(ev[i]!, c) : 0;
    }
  }

  /** Streams by evidence, most likely cause first; streams without evidence are left out. */
  rank(limit = Infinity): RankedCause[] {
    return rankEvidence(this.streams, this.evidence, limit);
  }
}

/** Streams ordered by evidence (ties: table order), with their share; zero evidence left out. */
export function rankEvidence(streams: readonly string[], evidence: ArrayLike<number>, limit = Infinity): RankedCause[] {
  let total = 0;
  const idx: number[] = [];
  for (let i = 0; i < streams.length; i++) {
    const v = evidence[i]!;
    if (v > 0) {
      idx.push(i);
      total += v;
    }
  }
  idx.sort((a, b) => evidence[b]! - evidence[a]! || a - b);
  return idx.slice(0, Math.min(limit, idx.length)).map((i) => ({ stream: streams[i]!, share: evidence[i]! / total }));
}

/**
 * HitRate@P% (Su et al. 2019, OmniAnomaly): of the `labelled` streams of an event, the share found
 * among the first ⌊P/100 · |labelled|⌋ ranked streams (P = 100 or 150).
 */
export function hitRate(ranked: readonly string[], labelled: readonly string[], percent: number): number {
  if (labelled.length === 0) return Number.NaN;
  const k = Math.floor((percent / 100) * labelled.length);
  const top = new Set(ranked.slice(0, k));
  let hit = 0;
  for (const s of labelled) if (top.has(s)) hit++;
  return hit / labelled.length;
}
