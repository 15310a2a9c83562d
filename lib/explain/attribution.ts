/**
 * Attribution for the anomaly page and the scoring API: the ranking of `cause-ranking.ts` (the
 * one the CLI's `causes` column and the evaluation use) over stored points, plus what the page
 * shows beside it (peak score, when each stream rose, lead–lag).
 *
 * Contract (pure, strictly causal: nothing after `toMs` is read): each candidate stream brings
 * its points (anomaly score 0–100 as stored and, when known, the value with its forecast and
 * sigma, and optionally its reference range: the sorted bucket means of the week before
 * `onset − lookbackMs`, `historyReference`). A point's contribution is `contribution()` plus,
 * with a reference, its range part (`withRange`); a stream's evidence is its largest
 * contribution in [onset − lookbackMs, toMs] plus a share of its contribution at the window's
 * peak (`windowEvidence`); streams are ordered by
 * `orderByEvidence`, exact ties going to the stream that rose first (score past `riseScore`),
 * then to the one that leads the reference by more (lead–lag), then to input order. Shares sum
 * to 1 over streams with any evidence.
 *
 * Cost: O(total points + k log k) for k streams.
 */
import { CAUSE_DEFAULTS, contribution, orderByEvidence, windowEvidence, type ContributionSeries } from "./cause-ranking";

export interface ScorePoint {
  t: number;
  score: number;
  /** The stream's value, its forecast and the forecast's sigma (omitted or NaN: score only). */
  value?: number;
  expected?: number;
  sigma?: number;
}

export interface AttributionInput {
  streamId: number;
  /** Points in time order; NaN scores count 0. */
  points: readonly ScorePoint[];
  /** Seconds this stream leads the reference by (lead–lag; positive = moved first), null when unknown. */
  leadSec?: number | null;
  /** The stream's values over `historySpan(onsetMs, lookbackMs)` as sorted bucket means (`historyReference`); omitted: no range part. */
  history?: ArrayLike<number>;
}

export interface AttributionOptions {
  onsetMs: number;
  /** The ranking as of this time (default: the onset). */
  toMs?: number;
  lookbackMs?: number;
  zCap?: number;
  /** A stream "rose" when its score first reached this in the window. */
  riseScore?: number;
  /** Weight of a stream's contribution at the window's peak (`windowEvidence`). */
  coWeight?: number;
}

export interface Contribution {
  streamId: number;
  rank: number;
  /** Share of the combined evidence, 0–1 (0 when the stream carries none). */
  share: number;
  /** Evidence in the window (`windowEvidence` in `cause-ranking.ts`). */
  evidence: number;
  /** Peak score in the window (NaN when the stream had no scores there). */
  peakScore: number;
  /** When the stream's score first reached `riseScore` in the window (null: it did not). */
  firstExceedMs: number | null;
  leadSec: number | null;
}

export const ATTRIBUTION_DEFAULTS = { lookbackMs: CAUSE_DEFAULTS.lookbackMs, zCap: CAUSE_DEFAULTS.zCap, riseScore: 50 } as const;

/** Ranks `streams` by their contribution to the event that opened at `opts.onsetMs`. */
export function rankContributions(streams: readonly AttributionInput[], opts: AttributionOptions): Contribution[] {
  const lookbackMs = opts.lookbackMs ?? ATTRIBUTION_DEFAULTS.lookbackMs;
  const zCap = opts.zCap ?? ATTRIBUTION_DEFAULTS.zCap;
  const riseScore = opts.riseScore ?? ATTRIBUTION_DEFAULTS.riseScore;
  const toMs = opts.toMs ?? opts.onsetMs;
  const from = opts.onsetMs - lookbackMs;
  const series: ContributionSeries[] = streams.map((s) => ({
    t: s.points.map((p) => p.t),
    c: s.points.map((p) => contribution(p.score, p.value ?? Number.NaN, p.expected ?? Number.NaN, p.sigma ?? Number.NaN, zCap)),
    ...(s.history ? { value: s.points.map((p) => p.value ?? Number.NaN), history: s.history } : {}),
  }));
  const evidence = windowEvidence(series, opts.onsetMs, toMs, lookbackMs, CAUSE_DEFAULTS.rangeWeight, opts.coWeight ?? CAUSE_DEFAULTS.coWeight);
  const rows = streams.map((s, k) => {
    let peak = Number.NaN;
    let first: number | null = null;
    for (const p of s.points) {
      if (p.t < from || p.t > toMs || !Number.isFinite(p.score)) continue;
      if (!(p.score <= peak)) peak = p.score;
      if (first === null && p.score >= riseScore) first = p.t;
    }
    return { streamId: s.streamId, evidence: evidence[k]!, peakScore: peak, firstExceedMs: first, leadSec: s.leadSec ?? null };
  });
  const total = rows.reduce((a, r) => a + r.evidence, 0);
  const ordered = orderByEvidence(
    evidence,
    (a, b) => (rows[a]!.firstExceedMs ?? Infinity) - (rows[b]!.firstExceedMs ?? Infinity) || (rows[b]!.leadSec ?? -Infinity) - (rows[a]!.leadSec ?? -Infinity),
  );
  const withEvidence = new Set(ordered);
  // streams without evidence follow, in input order: the page still lists the reference stream
  for (let k = 0; k < rows.length; k++) if (!withEvidence.has(k)) ordered.push(k);
  return ordered.map((k, i) => ({ ...rows[k]!, share: total > 0 ? rows[k]!.evidence / total : 0, rank: i + 1 }));
}

/**
 * The probable origin of an event: the highest-ranked stream other than the reference whose
 * evidence began no later than the reference's own onset and that carries at least
 * `minShareOfTop` of the top share; null when no other stream qualifies (the reference stream
 * is then its own explanation).
 */
export function probableOrigin(ranked: readonly Contribution[], referenceStreamId: number, referenceOnsetMs: number, minShareOfTop = 0.5): number | null {
  const top = ranked[0]?.share ?? 0;
  if (!(top > 0)) return null;
  const hit = ranked.find(
    (c) => c.streamId !== referenceStreamId && c.share >= minShareOfTop * top && c.firstExceedMs !== null && c.firstExceedMs <= referenceOnsetMs,
  );
  return hit?.streamId ?? null;
}
