/**
 * Which streams of a group (a host, a source, an uploaded table) carry its anomaly, ranked the
 * same way everywhere: the CLI's `causes` column and the evaluation (streaming, `CauseRanker`),
 * the anomaly page and the scoring API (batch: `windowEvidence` and `orderByEvidence` through
 * `rankContributions` in `lib/explain/attribution.ts`).
 *
 * A stream's contribution at a point has three parts:
 * - its own anomaly score (0–100, the calibrated evidence of every detector on it, as a share
 *   of 100);
 * - its deviation from the forecast in forecast sigmas over `zCap` (capped at 1): the score
 *   saturates at 100 for every clearly broken stream, the deviation still orders them;
 * - how far the value lies outside the range the stream kept over the week before the anomaly
 *   (`rangeTail`, 0–1, times `rangeWeight`): a one-step forecast sigma is tiny on a smooth or
 *   quantised stream, so a small step there saturates the deviation as much as a real break;
 *   a stream that swings over its range every day and is merely at one end of it again is less
 *   likely the cause than one that left the range it always keeps.
 * A stream's evidence for an anomaly is its largest contribution from `lookbackMs` before the
 * anomaly opened up to now, so the stream that moved first keeps its place when others follow,
 * and a stream that broke just before the alarm (the detector needs a few points to be sure) is
 * not forgotten. The reference range ends `lookbackMs` before the onset, so the anomaly's own
 * build-up never widens it.
 * To that it adds `coWeight` times its contribution at the anomaly's peak: the first point at
 * which the largest contribution so far in the window was reached (the top cause's worst
 * moment). A stream that moved at that very moment most likely belongs to the same incident;
 * one whose own largest contribution came at another time (a routine spike somewhere in the
 * half hour, a noisy stream's usual excursion) is more likely unrelated. This orders the
 * secondary streams, whose own evidence is often barely above the noise; the top cause stays
 * first (it adds its own largest contribution, nobody can add more), exact ties going to the
 * stream that reached the peak first.
 * Strictly causal: a ranking at time t uses points ≤ t.
 * Cost: O(streams) per row, O(streams·log streams) per ranking, O(streams·B log B) when an
 * anomaly opens (B = history buckets, 2,016 for a week of 5-minute means: ~0.1 ms a stream);
 * the streaming ranker keeps the rows of the last `lookbackMs` and each stream's bucket means
 * of the last week (16 KB a stream at 5-minute buckets).
 */
export interface CauseRankerOptions {
  /** Deviation cap, in forecast sigmas. */
  zCap?: number;
  /** How long before an anomaly opened a stream's contribution still counts. */
  lookbackMs?: number;
  /** Weight of the value's tail against the stream's own past week (`rangeTail`); 0 = off. */
  rangeWeight?: number;
  /** Span of the reference history, and the bucket its values are averaged over. */
  historyMs?: number;
  historyBucketMs?: number;
  /** Weight of a stream's contribution at the anomaly's peak (`PeakEvidence`); 0 = off. */
  coWeight?: number;
}

export const CAUSE_DEFAULTS = {
  zCap: 10,
  lookbackMs: 30 * 60_000,
  rangeWeight: 0.5,
  /** A value rarer than 1 in 10^rangeDecades of the past week counts the full range weight. */
  rangeDecades: 3,
  historyMs: 7 * 86_400_000,
  historyBucketMs: 5 * 60_000,
  coWeight: 0.5,
} as const;

export interface HistoryOptions {
  historyMs?: number;
  historyBucketMs?: number;
}

/**
 * The reference span for an anomaly that opened at `onsetMs`: the whole buckets of `historyMs`
 * that end by `onsetMs − lookbackMs` ([fromMs, toMs), epoch-aligned, so the page's rollups and
 * the CLI's rows average the same buckets).
 */
export function historySpan(onsetMs: number, lookbackMs: number = CAUSE_DEFAULTS.lookbackMs, opts: HistoryOptions = {}): { fromMs: number; toMs: number; bucketMs: number } {
  const bucketMs = opts.historyBucketMs ?? CAUSE_DEFAULTS.historyBucketMs;
  const toMs = Math.floor((onsetMs - lookbackMs) / bucketMs) * bucketMs;
  const fromMs = toMs - Math.floor((opts.historyMs ?? CAUSE_DEFAULTS.historyMs) / bucketMs) * bucketMs;
  return { fromMs, toMs, bucketMs };
}

/**
 * A stream's reference history: the means of its finite values per bucket over
 * [fromMs, toMs) (`historySpan`), sorted ascending (what `rangeTail` takes).
 */
export function historyReference(t: ArrayLike<number>, values: ArrayLike<number>, span: { fromMs: number; toMs: number; bucketMs: number }): Float64Array {
  const means: number[] = [];
  let bucket = Number.NaN;
  let sum = 0;
  let count = 0;
  for (let j = 0; j < t.length; j++) {
    const tj = t[j]!;
    if (tj < span.fromMs || tj >= span.toMs) continue;
    const x = values[j]!;
    if (!Number.isFinite(x)) continue;
    const b = Math.floor(tj / span.bucketMs);
    if (b !== bucket) {
      if (count > 0) means.push(sum / count);
      bucket = b;
      sum = 0;
      count = 0;
    }
    sum += x;
    count++;
  }
  if (count > 0) means.push(sum / count);
  return Float64Array.from(means).sort();
}

/** Number of entries of the ascending `a` that are < x (lower) or ≤ x (upper). */
function bound(a: ArrayLike<number>, x: number, upper: boolean): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (upper ? a[mid]! <= x : a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * How far outside its usual range `x` lies, 0–1: the two-sided rank probability of x among the
 * stream's past bucket means (`sortedHistory`, ascending), p = 2·(min(#≥x, #≤x) + 1)/(n + 1)
 * capped at 1, as −log10 p over `decades` (capped at 1). 0 without history or for a value in
 * the middle of it; 1 for a value beyond all of a week (n ≥ 2·10^decades − 1) of it.
 * O(log n).
 */
export function rangeTail(sortedHistory: ArrayLike<number>, x: number, decades: number = CAUSE_DEFAULTS.rangeDecades): number {
  const n = sortedHistory.length;
  if (n === 0 || !Number.isFinite(x)) return 0;
  const below = bound(sortedHistory, x, true); // ≤ x
  const above = n - bound(sortedHistory, x, false); // ≥ x
  const p = (2 * (Math.min(below, above) + 1)) / (n + 1);
  return p >= 1 ? 0 : Math.min(1, -Math.log10(p) / decades);
}

/**
 * A counter's rate at a reading, as the engine scores it: its increase since the previous
 * reading (`prev` at `prevT`) per second. NaN without a previous reading, across a reset (a
 * drop: the increase over that interval is unknown) or over a non-positive interval. Cause
 * ranking takes a counter's rate as its value: its raw cumulative value is not on the scale of
 * its forecast (which is of the rate), and always lies outside the range it kept before.
 */
export function counterRate(prev: number, prevT: number, x: number, t: number): number {
  const dtS = (t - prevT) / 1000;
  return prev === prev && x === x && dtS > 0 && x >= prev ? (x - prev) / dtS : Number.NaN;
}

/**
 * `counterRate` along a series in time order: each finite reading against the previous finite
 * one (a missing reading is skipped; a reset starts over from the value after it). The first
 * reading's previous one is `before` (default: none, NaN).
 */
export function counterRates(t: ArrayLike<number>, values: ArrayLike<number>, before: { t: number; value: number } = { t: Number.NaN, value: Number.NaN }): Float64Array {
  const out = new Float64Array(values.length);
  let prev = before.value;
  let prevT = before.t;
  for (let j = 0; j < values.length; j++) {
    const x = values[j]!;
    out[j] = counterRate(prev, prevT, x, t[j]!);
    if (x === x) {
      prev = x;
      prevT = t[j]!;
    }
  }
  return out;
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

/**
 * One point's contribution from its score and forecast: score/100 + min(zCap, |x − expected| /
 * sigma) / zCap. A missing score counts 0; a stream whose forecast has no spread counts a full
 * deviation when it moved at all. The range part is added by `withRange`.
 */
export function contribution(score: number, value: number, expected: number, sigma: number, zCap: number = CAUSE_DEFAULTS.zCap): number {
  let z = 0;
  if (value === value && expected === expected && sigma > 0) z = Math.min(zCap, Math.abs(value - expected) / sigma);
  else if (value === value && expected === expected && value !== expected) z = zCap;
  return (score === score ? score / 100 : 0) + z / zCap;
}

/** A contribution with its range part: c + rangeWeight · rangeTail(history, value). */
export function withRange(c: number, value: number, history: ArrayLike<number> | undefined, rangeWeight: number = CAUSE_DEFAULTS.rangeWeight): number {
  return history && rangeWeight > 0 ? c + rangeWeight * rangeTail(history, value) : c;
}

/**
 * Evidence accumulated over an anomaly's rows (time order, each row's contributions with their
 * range part): per stream its largest contribution plus `coWeight` times its contribution on
 * the peak row, the first row whose largest contribution exceeded every earlier one. O(streams)
 * per row.
 */
export class PeakEvidence {
  /** Per stream: largest contribution, and the contribution on the peak row. */
  readonly best: Float64Array;
  readonly atPeak: Float64Array;
  private peak = 0;

  constructor(
    n: number,
    private readonly coWeight: number = CAUSE_DEFAULTS.coWeight,
  ) {
    this.best = new Float64Array(n);
    this.atPeak = new Float64Array(n);
  }

  reset(): void {
    this.best.fill(0);
    this.atPeak.fill(0);
    this.peak = 0;
  }

  add(c: ArrayLike<number>): void {
    const best = this.best;
    let top = 0;
    for (let i = 0; i < best.length; i++) {
      const x = c[i]!;
      if (x > best[i]!) best[i] = x;
      if (x > top) top = x;
    }
    if (top > this.peak) {
      this.peak = top;
      for (let i = 0; i < best.length; i++) this.atPeak[i] = c[i]! > 0 ? c[i]! : 0;
    }
  }

  /** Each stream's evidence into `out` (0 for a stream that never contributed). */
  evidence(out: Float64Array = new Float64Array(this.best.length)): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = this.best[i]! + this.coWeight * this.atPeak[i]!;
    return out;
  }
}

/**
 * Each stream's bucket means over the last `historyMs` plus `lookbackMs` (a ring per stream),
 * from which the reference of an anomaly is sorted when it opens: the same buckets as the batch
 * `historyReference` over `historySpan`. O(streams) per row; O(streams·B log B) per anomaly.
 */
class BucketHistory {
  private readonly start: Float64Array[];
  private readonly mean: Float64Array[];
  /** Per stream: index of the oldest bucket and how many the ring holds. */
  private readonly head: Int32Array;
  private readonly size: Int32Array;
  private readonly sum: Float64Array;
  private readonly count: Float64Array;
  private readonly open: Float64Array;
  private readonly cap: number;

  constructor(
    n: number,
    private readonly bucketMs: number,
    private readonly historyMs: number,
    private readonly lookbackMs: number,
  ) {
    this.cap = Math.floor(historyMs / bucketMs) + Math.ceil(lookbackMs / bucketMs) + 2;
    this.start = Array.from({ length: n }, () => new Float64Array(this.cap));
    this.mean = Array.from({ length: n }, () => new Float64Array(this.cap));
    this.head = new Int32Array(n);
    this.size = new Int32Array(n);
    this.sum = new Float64Array(n);
    this.count = new Float64Array(n);
    this.open = new Float64Array(n).fill(Number.NaN);
  }

  observe(tMs: number, values: ArrayLike<number>): void {
    const b = Math.floor(tMs / this.bucketMs) * this.bucketMs;
    for (let k = 0; k < this.sum.length; k++) {
      const x = values[k]!;
      if (!Number.isFinite(x)) continue;
      if (this.open[k] !== b) {
        this.close(k);
        this.open[k] = b;
      }
      this.sum[k] = this.sum[k]! + x;
      this.count[k] = this.count[k]! + 1;
    }
  }

  private close(k: number): void {
    if (this.count[k]! > 0) {
      // a full ring drops its oldest bucket: older than any span still asked for
      const at = (this.head[k]! + this.size[k]!) % this.cap;
      this.start[k]![at] = this.open[k]!;
      this.mean[k]![at] = this.sum[k]! / this.count[k]!;
      if (this.size[k]! < this.cap) this.size[k] = this.size[k]! + 1;
      else this.head[k] = (this.head[k]! + 1) % this.cap;
    }
    this.sum[k] = 0;
    this.count[k] = 0;
  }

  /** Stream k's reference for an anomaly that opens at `tMs`, sorted ascending (`historyReference`). */
  reference(k: number, tMs: number): Float64Array {
    const span = historySpan(tMs, this.lookbackMs, { historyMs: this.historyMs, historyBucketMs: this.bucketMs });
    const out = new Float64Array(this.size[k]! + 1);
    let m = 0;
    const st = this.start[k]!;
    const mn = this.mean[k]!;
    for (let j = 0; j < this.size[k]!; j++) {
      const i = (this.head[k]! + j) % this.cap;
      if (st[i]! >= span.fromMs && st[i]! < span.toMs) out[m++] = mn[i]!;
    }
    // the open bucket counts once it starts before the span's end (no later row can fall in it)
    if (this.count[k]! > 0 && this.open[k]! >= span.fromMs && this.open[k]! < span.toMs) out[m++] = this.sum[k]! / this.count[k]!;
    return out.subarray(0, m).sort();
  }
}

export class CauseRanker {
  private readonly zCap: number;
  private readonly lookbackMs: number;
  private readonly rangeWeight: number;
  private readonly historyOpts: HistoryOptions;
  /** This row's contribution per stream from its score and forecast (`contribution`, no range part). */
  readonly current: Float64Array;
  /** Evidence per stream since `lookbackMs` before the current anomaly began (`PeakEvidence`; zero outside one). */
  readonly evidence: Float64Array;
  private readonly acc: PeakEvidence;
  private readonly rowC: Float64Array;
  /** Recent rows (time, contributions, values), oldest first, for the lookback of the next anomaly. */
  private recent: { t: number; c: Float64Array; x: Float64Array }[] = [];
  private inAnomaly = false;
  private readonly history: BucketHistory | null;
  /** Per stream, the current anomaly's reference range (sorted bucket means). */
  private refs: Float64Array[] = [];

  constructor(
    readonly streams: readonly string[],
    opts: CauseRankerOptions = {},
  ) {
    this.zCap = opts.zCap ?? CAUSE_DEFAULTS.zCap;
    this.lookbackMs = opts.lookbackMs ?? CAUSE_DEFAULTS.lookbackMs;
    this.rangeWeight = opts.rangeWeight ?? CAUSE_DEFAULTS.rangeWeight;
    this.historyOpts = { historyMs: opts.historyMs ?? CAUSE_DEFAULTS.historyMs, historyBucketMs: opts.historyBucketMs ?? CAUSE_DEFAULTS.historyBucketMs };
    this.current = new Float64Array(streams.length);
    this.evidence = new Float64Array(streams.length);
    this.acc = new PeakEvidence(streams.length, opts.coWeight ?? CAUSE_DEFAULTS.coWeight);
    this.rowC = new Float64Array(streams.length);
    this.history = this.rangeWeight > 0 ? new BucketHistory(streams.length, this.historyOpts.historyBucketMs!, this.historyOpts.historyMs!, this.lookbackMs) : null;
  }

  /** Takes a scored row at `tMs`; `flagged` = the row is part of an anomaly (an unflagged row ends it). */
  observe(tMs: number, row: CauseRow, flagged: boolean): void {
    const cur = this.current;
    const rc = this.rowC;
    const acc = this.acc;
    const n = cur.length;
    for (let i = 0; i < n; i++) cur[i] = contribution(row.score[i]!, row.value[i]!, row.expected[i]!, row.sigma[i]!, this.zCap);
    while (this.recent.length > 0 && this.recent[0]!.t < tMs - this.lookbackMs) this.recent.shift();
    if (flagged && !this.inAnomaly) {
      acc.reset();
      if (this.history) this.refs = Array.from({ length: n }, (_, i) => this.history!.reference(i, tMs));
      for (const r of this.recent) {
        for (let i = 0; i < n; i++) rc[i] = withRange(r.c[i]!, r.x[i]!, this.refs[i], this.rangeWeight);
        acc.add(rc);
      }
    }
    this.inAnomaly = flagged;
    if (flagged) {
      for (let i = 0; i < n; i++) rc[i] = withRange(cur[i]!, row.value[i]!, this.refs[i], this.rangeWeight);
      acc.add(rc);
      acc.evidence(this.evidence);
    } else {
      acc.reset();
      this.evidence.fill(0);
    }
    if (this.lookbackMs > 0) this.recent.push({ t: tMs, c: Float64Array.from(cur), x: Float64Array.from(row.value) });
    this.history?.observe(tMs, row.value);
  }

  /** Streams by evidence, most likely cause first; streams without evidence are left out. */
  rank(limit = Infinity): RankedCause[] {
    return rankEvidence(this.streams, this.evidence, limit);
  }
}

/** A stream's contributions over time (batch form), in time order. */
export interface ContributionSeries {
  t: ArrayLike<number>;
  /** `contribution` per point (score and forecast). */
  c: ArrayLike<number>;
  /** The values behind them (NaN: none) and the stream's reference range (`historyReference`); both or neither. */
  value?: ArrayLike<number>;
  history?: ArrayLike<number>;
}

/**
 * Batch evidence: per stream, the largest contribution (with its range part when the series
 * brings values and a reference) with `onsetMs − lookbackMs ≤ t ≤ toMs` (0 when none), plus
 * `coWeight` times its contribution at the peak time (the earliest time of the largest
 * contribution of any stream there; 0 for a stream without a point then). Equal to
 * `CauseRanker.evidence` at `toMs` for an anomaly that opened at `onsetMs` when the series share
 * the ranker's row times and each reference is `historyReference` over
 * `historySpan(onsetMs, lookbackMs)`.
 */
export function windowEvidence(
  series: readonly ContributionSeries[],
  onsetMs: number,
  toMs: number,
  lookbackMs: number = CAUSE_DEFAULTS.lookbackMs,
  rangeWeight: number = CAUSE_DEFAULTS.rangeWeight,
  coWeight: number = CAUSE_DEFAULTS.coWeight,
): Float64Array {
  const from = onsetMs - lookbackMs;
  const out = new Float64Array(series.length);
  const cs = series.map((s) => {
    const c = new Float64Array(s.t.length);
    for (let j = 0; j < s.t.length; j++) c[j] = s.value && s.history ? withRange(s.c[j]!, s.value[j]!, s.history, rangeWeight) : s.c[j]!;
    return c;
  });
  let peak = 0;
  let peakT = Number.NaN;
  series.forEach((s, k) => {
    let best = 0;
    for (let j = 0; j < s.t.length; j++) {
      const t = s.t[j]!;
      if (t < from || t > toMs) continue;
      const c = cs[k]![j]!;
      if (c > best) best = c;
      if (c > peak || (c === peak && c > 0 && t < peakT)) {
        peak = c;
        peakT = t;
      }
    }
    out[k] = best;
  });
  if (coWeight > 0 && peak > 0) {
    series.forEach((s, k) => {
      let at = 0;
      for (let j = 0; j < s.t.length; j++) if (s.t[j] === peakT && cs[k]![j]! > at) at = cs[k]![j]!;
      out[k] = out[k]! + coWeight * at;
    });
  }
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
