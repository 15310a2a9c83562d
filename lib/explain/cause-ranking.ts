/**
 * Which streams of a group (a host, a source, an uploaded table) carry its anomaly, ranked the
 * same way everywhere: the CLI's `causes` column and the evaluation (streaming, `CauseRanker`),
 * the anomaly page and the scoring API (batch: `windowEvidence` and `orderByEvidence` through
 * `rankContributions` in `lib/explain/attribution.ts`).
 *
 * A stream's contribution at a point is its own anomaly score (0–100, the calibrated evidence of
 * every detector on it, as a share of 100) plus its deviation from the forecast in forecast
 * sigmas over `zCap` (capped at 1): the score saturates at 100 for every clearly broken stream,
 * the deviation still orders them. A stream's evidence for an anomaly is its largest contribution
 * from `lookbackMs` before the anomaly opened up to now, so the stream that moved first keeps its
 * place when others follow, and a stream that broke just before the alarm (the detector needs a
 * few points to be sure) is not forgotten. Strictly causal: a ranking at time t uses points ≤ t.
 * On ASD the lookback raised HitRate@150 % from 0.883 to 0.93 (docs/eval.md).
 * Cost: O(streams) per row, O(streams·log streams) per ranking; the streaming ranker keeps the
 * rows of the last `lookbackMs`.
 */
export interface CauseRankerOptions {
  /** Deviation cap, in forecast sigmas. */
  zCap?: number;
  /** How long before an anomaly opened a stream's contribution still counts. */
  lookbackMs?: number;
}

export const CAUSE_DEFAULTS = { zCap: 10, lookbackMs: 30 * 60_000 } as const;

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

/**
 * One point's contribution: score/100 + min(zCap, |x − expected| / sigma) / zCap. A missing score
 * counts 0; a stream whose forecast has no spread counts a full deviation when it moved at all.
 */
export function contribution(score: number, value: number, expected: number, sigma: number, zCap: number = CAUSE_DEFAULTS.zCap): number {
  let z = 0;
  if (value === value && expected === expected && sigma > 0) z = Math.min(zCap, Math.abs(value - expected) / sigma);
  else if (value === value && expected === expected && value !== expected) z = zCap;
  return (score === score ? score / 100 : 0) + z / zCap;
}

export class CauseRanker {
  private readonly zCap: number;
  private readonly lookbackMs: number;
  /** This row's contribution per stream. */
  readonly current: Float64Array;
  /** Largest contribution per stream since `lookbackMs` before the current anomaly began (zero outside one). */
  readonly evidence: Float64Array;
  /** Recent rows (time, contributions), oldest first, for the lookback of the next anomaly. */
  private recent: { t: number; c: Float64Array }[] = [];
  private inAnomaly = false;

  constructor(
    readonly streams: readonly string[],
    opts: CauseRankerOptions = {},
  ) {
    this.zCap = opts.zCap ?? CAUSE_DEFAULTS.zCap;
    this.lookbackMs = opts.lookbackMs ?? CAUSE_DEFAULTS.lookbackMs;
    this.current = new Float64Array(streams.length);
    this.evidence = new Float64Array(streams.length);
  }

  /** Takes a scored row at `tMs`; `flagged` = the row is part of an anomaly (an unflagged row ends it). */
  observe(tMs: number, row: CauseRow, flagged: boolean): void {
    const ev = this.evidence;
    const cur = this.current;
    for (let i = 0; i < ev.length; i++) cur[i] = contribution(row.score[i]!, row.value[i]!, row.expected[i]!, row.sigma[i]!, this.zCap);
    while (this.recent.length > 0 && this.recent[0]!.t < tMs - this.lookbackMs) this.recent.shift();
    if (flagged && !this.inAnomaly) {
      ev.fill(0);
      for (const r of this.recent) for (let i = 0; i < ev.length; i++) if (r.c[i]! > ev[i]!) ev[i] = r.c[i]!;
    }
    this.inAnomaly = flagged;
    if (flagged) for (let i = 0; i < ev.length; i++) ev[i] = Math.max(ev[i]!, cur[i]!);
    else ev.fill(0);
    if (this.lookbackMs > 0) this.recent.push({ t: tMs, c: Float64Array.from(cur) });
  }

  /** Streams by evidence, most likely cause first; streams without evidence are left out. */
  rank(limit = Infinity): RankedCause[] {
    return rankEvidence(this.streams, this.evidence, limit);
  }
}

/** A stream's contributions over time (batch form), in time order. */
export interface ContributionSeries {
  t: ArrayLike<number>;
  c: ArrayLike<number>;
}

/**
 * Batch evidence: per stream, the largest contribution with `onsetMs − lookbackMs ≤ t ≤ toMs`
 * (0 when none). Equal to `CauseRanker.evidence` at `toMs` for an anomaly that opened at `onsetMs`.
 */
export function windowEvidence(series: readonly ContributionSeries[], onsetMs: number, toMs: number, lookbackMs: number = CAUSE_DEFAULTS.lookbackMs): Float64Array {
  const from = onsetMs - lookbackMs;
  const out = new Float64Array(series.length);
  series.forEach((s, k) => {
    let best = 0;
    for (let j = 0; j < s.t.length; j++) {
      const t = s.t[j]!;
      if (t < from || t > toMs) continue;
      const c = s.c[j]!;
      if (c > best) best = c;
    }
    out[k] = best;
  });
  return out;
}

/**
 * The order of the ranking: by evidence, most first; streams without evidence left out. Exact
 * ties (scores saturate at 100, so clearly broken streams often tie when no forecast deviation
 * orders them) go to `tieBreak` when given (the anomaly page: who rose first, lead–lag), then to
 * table order.
 */
export function orderByEvidence(evidence: ArrayLike<number>, tieBreak?: (a: number, b: number) => number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < evidence.length; i++) if (evidence[i]! > 0) idx.push(i);
  idx.sort((a, b) => evidence[b]! - evidence[a]! || (tieBreak ? tieBreak(a, b) : 0) || a - b);
  return idx;
}

/** Streams ordered by evidence (`orderByEvidence`), with their share of the total. */
export function rankEvidence(streams: readonly string[], evidence: ArrayLike<number>, limit = Infinity): RankedCause[] {
  const idx = orderByEvidence(evidence);
  let total = 0;
  for (const i of idx) total += evidence[i]!;
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
