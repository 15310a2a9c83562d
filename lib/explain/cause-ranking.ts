/**
 * Ranks the streams of one group (a host, a source, an uploaded table) by their contribution to
 * the group's current anomaly, strictly causally: only the rows seen so far count.
 *
 * A stream's contribution at a row is its own anomaly score (0–100, the calibrated evidence of
 * every detector on it) plus its deviation from the forecast in forecast sigmas, capped at `zCap`
 * (the score saturates at 100 for every clearly broken stream; the deviation still orders them).
 * Evidence decays by `decay` per row, so the ranking weighs the anomaly's row and the few just
 * before it ("at and just before onset"): a stream that moved first keeps its lead for a while.
 * Cost: O(streams) per row to update, O(streams·log streams) per ranking.
 */
export interface CauseRankerOptions {
  /** Evidence kept from one row to the next (0 = this row only). */
  decay?: number;
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
  private readonly decay: number;
  private readonly zCap: number;
  readonly evidence: Float64Array;

  constructor(
    readonly streams: readonly string[],
    opts: CauseRankerOptions = {},
  ) {
    this.decay = opts.decay ?? 0.5;
    this.zCap = opts.zCap ?? 20;
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

  observe(row: CauseRow): void {
    const ev = this.evidence;
    for (let i = 0; i < ev.length; i++) ev[i] = this.decay * ev[i]! + this.contribution(row, i);
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
