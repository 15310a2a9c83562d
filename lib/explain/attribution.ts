/**
 * Attribution: which streams of a group (a host, a source, an uploaded table) carry an anomaly
 * event, ranked by their share of the combined evidence at and just before its onset.
 *
 * Contract (pure, strictly causal when `windowAfterMs` is 0): each candidate stream brings its
 * anomaly scores (0–100, as stored) around the onset. A stream's evidence is the mean, over the
 * window [onset − windowBeforeMs, onset + windowAfterMs], of how far its score rose above its
 * own usual level (the median of its scores in the baseline period before that window, floored
 * at `floor`), so a stream that always scores 40 does not outrank one that jumped from 5 to 90.
 * Shares sum to 1 over streams with any evidence. Streams whose shares round to the same
 * multiple of `tieShare` are ordered by when they rose (score past `riseScore` and their usual
 * level; earlier first), then by
 * lead–lag against the reference (the stream that leads by more first), then by evidence.
 *
 * Cost: O(total points + k log k) for k streams.
 */

export interface ScorePoint {
  t: number;
  score: number;
}

export interface AttributionInput {
  streamId: number;
  /** Scores in time order; NaN scores are ignored. */
  points: readonly ScorePoint[];
  /** Seconds this stream leads the reference by (lead–lag; positive = moved first), null when unknown. */
  leadSec?: number | null;
}

export interface AttributionOptions {
  onsetMs: number;
  windowBeforeMs?: number;
  windowAfterMs?: number;
  baselineMs?: number;
  /** Scores at or below this never count as evidence (the engine's noise level). */
  floor?: number;
  /** Share difference under which two streams count as tied. */
  tieShare?: number;
  /** A stream "rose" when its score first passed both this and its usual level (noise stays below). */
  riseScore?: number;
}

export interface Contribution {
  streamId: number;
  rank: number;
  /** Share of the combined evidence, 0–1 (0 when the stream did not rise above its level). */
  share: number;
  /** Mean excess score over the window. */
  evidence: number;
  /** Peak score in the window (NaN when the stream had no scores there). */
  peakScore: number;
  /** When the stream's score first passed `riseScore` and its usual level in the window (null: it did not). */
  firstExceedMs: number | null;
  leadSec: number | null;
}

export const ATTRIBUTION_DEFAULTS = {
  windowBeforeMs: 10 * 60_000,
  windowAfterMs: 5 * 60_000,
  baselineMs: 2 * 3_600_000,
  floor: 20,
  tieShare: 0.02,
  riseScore: 50,
} as const;

function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Ranks `streams` by their contribution to the event that opened at `opts.onsetMs`. */
export function rankContributions(streams: readonly AttributionInput[], opts: AttributionOptions): Contribution[] {
  const o = { ...ATTRIBUTION_DEFAULTS, ...opts };
  const from = o.onsetMs - o.windowBeforeMs;
  const to = o.onsetMs + o.windowAfterMs;
  const rows = streams.map((s) => {
    const base: number[] = [];
    let sum = 0;
    let n = 0;
    let peak = Number.NaN;
    let first: number | null = null;
    for (const p of s.points) if (Number.isFinite(p.score) && p.t < from && p.t >= from - o.baselineMs) base.push(p.score);
    const level = Math.max(o.floor, Number.isNaN(median(base)) ? 0 : median(base));
    for (const p of s.points) {
      if (!Number.isFinite(p.score) || p.t < from || p.t > to) continue;
      const excess = Math.max(0, p.score - level);
      sum += excess;
      n++;
      if (!(p.score <= peak)) peak = p.score;
      if (first === null && p.score > level && p.score >= o.riseScore) first = p.t;
    }
    return { streamId: s.streamId, evidence: n ? sum / n : 0, peakScore: peak, firstExceedMs: first, leadSec: s.leadSec ?? null };
  });
  const total = rows.reduce((a, r) => a + r.evidence, 0);
  const withShare = rows.map((r) => ({ ...r, share: total > 0 ? r.evidence / total : 0 }));
  const tieBucket = (share: number) => Math.round(share / o.tieShare);
  withShare.sort(
    (a, b) =>
      tieBucket(b.share) - tieBucket(a.share) ||
      (a.firstExceedMs ?? Infinity) - (b.firstExceedMs ?? Infinity) ||
      (b.leadSec ?? -Infinity) - (a.leadSec ?? -Infinity) ||
      b.evidence - a.evidence ||
      a.streamId - b.streamId,
  );
  return withShare.map((r, i) => ({ ...r, rank: i + 1 }));
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
