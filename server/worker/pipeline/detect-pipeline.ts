import type { TStreamKind } from "@/lib/schemas/stream";
import { upsertAnomalies } from "../../repos/anomalies-repo";
import { anomalyRow } from "./anomaly-row";
import { readSamplesAfter } from "../../repos/storage/samples";
import { writeRollup } from "../../repos/storage/rollup";
import type { NewSampleColumns, ScoreColumns } from "../../repos/storage/columns";
import type { RollupBuffer } from "./rollup-buffer";
import { HandoffQueue } from "../handoff";
import { grownFloat64 } from "@/lib/collections/grow";
import { HealthRows, StreamRows, type StreamState } from "./stream-rows";
import { EndedGapFilter } from "./ended-gaps";
import { flushScoreMinutes, prepareScores, scoredAlready } from "../../repos/storage/scores";
import { ScoreMinuteFold } from "../../repos/storage/score-minute-fold";
import { allStreamKinds, readEndedStreams } from "../../repos/streams-repo";
import type { EngineEvent, EnginePort, StepScores } from "@/lib/detectors/engine-port";
import { STEP_MS } from "../../services/detection/replay";
import { canScoreLate } from "../../services/detection/scratch-scoring";
import { LateSamples } from "./late-samples";

/**
 * A new stream whose first sample is this far behind the live clock (or the wall clock, while
 * the live clock is behind it, e.g. right after a start) is history (a backfill): it gets a
 * history clock domain. Less late, it joins the live clock (its samples behind that clock are
 * scored as late samples: see `LateSamples`).
 */
const historyAfterMs = (stepMs: number) => Math.max(30 * stepMs, 5 * 60_000);

export interface PipelineStats {
  samplesRead: number;
  stepsScored: number;
  /** Samples read behind their clock (a step already scored), and of those, the ones scored (see `LateSamples`). */
  lateSamples: number;
  lateScored: number;
  scoresWritten: number;
  eventsWritten: number;
  lastBatchMs: number;
  /** Samples read but not scored yet: the newest step of each clock, and steps ahead of the wall clock. */
  pendingSamples: number;
  /** Failed result writes (each retried until it succeeds), the last failure, and whether a write is retrying now. */
  writeFailures: number;
  lastWriteError: string | null;
  lastWriteErrorAtMs: number | null;
  writeRetrying: boolean;
  /** Re-scored rows of a replay after a crash that were stored already (not written twice). */
  replaySkipped: number;
  /** Gap anomaly events not written because their stream ended (a Prometheus staleness marker). */
  endedGapsDropped: number;
  /** Cumulative wall time reading samples, scoring them, and writing results (ms). */
  readMs: number;
  scoreMs: number;
  writeMs: number;
}


type BatchColumns = { [K in Exclude<keyof ScoreColumns, "streamIds">]: Float64Array } & { streamIds: Int32Array; seq: Float64Array };

/**
 * Score rows of one round, column-wise (what `insertScores` writes). Two batches take turns
 * (see `DetectPipeline.nextScoreBatch`): a round scores into one while the previous round's
 * writes still read the other, so the columns are allocated once, not every round.
 */
class ScoreBatch {
  length = 0;
  /** Rows from here on are late samples' (see `LateSamples`): checked against stored scores before writing. */
  lateFrom = Infinity;
  private c: BatchColumns = ScoreBatch.alloc(0);
  private static alloc(capacity: number): BatchColumns {
    const col = () => new Float64Array(capacity);
    // stream ids as int32, as the engine reports them: copying them is a memcpy, not a conversion per row
    return { streamIds: new Int32Array(capacity), seq: col(), tsMs: col(), score: col(), confidence: col(), expected: col(), lower: col(), upper: col() };
  }
  /** Empties the batch with room for `capacity` rows. */
  reset(capacity: number): this {
    this.length = 0;
    this.lateFrom = Infinity;
    if (this.c.tsMs.length < capacity) this.c = ScoreBatch.alloc(Math.max(capacity, 2 * this.c.tsMs.length));
    return this;
  }
  /** Appends one step's scores (NaN bands are stored as NULL); `seq` is each step row's sample seq. */
  pushStep(s: StepScores, seq: Float64Array): void {
    const i = this.length;
    const n = s.n;
    const c = this.c;
    for (let j = 0; j < n; j++) c.seq[i + j] = seq[s.at[j]!]!;
    c.streamIds.set(s.streamIds.subarray(0, n), i);
    c.tsMs.set(s.tsMs.subarray(0, n), i);
    c.score.set(s.score.subarray(0, n), i);
    c.confidence.set(s.confidence.subarray(0, n), i);
    c.expected.set(s.expected.subarray(0, n), i);
    c.lower.set(s.lower.subarray(0, n), i);
    c.upper.set(s.upper.subarray(0, n), i);
    this.length += n;
  }
  /** Appends one row (a late sample's score). */
  pushRow(id: number, seq: number, tsMs: number, score: number, confidence: number, expected: number, lower: number, upper: number): void {
    const i = this.length++;
    const c = this.c;
    c.streamIds[i] = id;
    c.seq[i] = seq;
    c.tsMs[i] = tsMs;
    c.score[i] = score;
    c.confidence[i] = confidence;
    c.expected[i] = expected;
    c.lower[i] = lower;
    c.upper[i] = upper;
  }
  /** Each row's sample seq (a view, valid until the batch is reset). */
  seqs(): Float64Array {
    return this.c.seq.subarray(0, this.length);
  }
  /** The batch's rows, as views (valid until the batch is reset). */
  columns(): ScoreColumns {
    const n = this.length;
    const c = this.c;
    return {
      streamIds: c.streamIds.subarray(0, n),
      tsMs: c.tsMs.subarray(0, n),
      score: c.score.subarray(0, n),
      confidence: c.confidence.subarray(0, n),
      expected: c.expected.subarray(0, n),
      lower: c.lower.subarray(0, n),
      upper: c.upper.subarray(0, n),
    };
  }
}

let nextStamp = 1;

/** One step's rows after `compact`: one per stream. Scratch space, valid until the next compact. */
class StepRows {
  n = 0;
  readonly states: StreamState[] = [];
  ids = new Int32Array(256);
  ts = new Float64Array(256);
  values = new Float64Array(256);
  seq = new Float64Array(256);

  ensure(m: number): void {
    if (this.ids.length >= m) return;
    const cap = Math.max(m, 2 * this.ids.length);
    this.ids = new Int32Array(cap);
    this.ts = new Float64Array(cap);
    this.values = new Float64Array(cap);
    this.seq = new Float64Array(cap);
  }
}

/**
 * The samples of one step as they arrive (a stream may repeat; the newest sample wins). Buckets
 * are recycled once scored (see `DetectPipeline.bucketPool`), so their columns grow once.
 */
class StepBucket {
  n = 0;
  /** smallest sample seq in the bucket (a snapshot's cursor stays below it while it is unscored) */
  minSeq = Infinity;
  readonly states: StreamState[] = [];
  ts = new Float64Array(256);
  values = new Float64Array(256);
  seq = new Float64Array(256);

  put(st: StreamState, tsMs: number, value: number, seq: number): void {
    const k = this.n;
    if (k === this.ts.length) {
      this.ts = grownFloat64(this.ts, 2 * k);
      this.values = grownFloat64(this.values, 2 * k);
      this.seq = grownFloat64(this.seq, 2 * k);
    }
    this.states[k] = st;
    this.ts[k] = tsMs;
    this.values[k] = value;
    this.seq[k] = seq;
    if (seq < this.minSeq) this.minSeq = seq;
    this.n = k + 1;
  }

  clear(): void {
    this.n = 0;
    this.minSeq = Infinity;
  }

  /** Moves the samples of streams that `moves` picks into `into`, keeping the rest in order. */
  moveOut(moves: (st: StreamState) => boolean, into: StepBucket): void {
    let kept = 0;
    let minSeq = Infinity;
    for (let j = 0; j < this.n; j++) {
      const st = this.states[j]!;
      if (moves(st)) {
        into.put(st, this.ts[j]!, this.values[j]!, this.seq[j]!);
        continue;
      }
      this.states[kept] = st;
      this.ts[kept] = this.ts[j]!;
      this.values[kept] = this.values[j]!;
      this.seq[kept] = this.seq[j]!;
      minSeq = Math.min(minSeq, this.seq[j]!);
      kept++;
    }
    this.n = kept;
    this.minSeq = minSeq;
  }

  /** One row per stream (its newest sample), in first-arrival order, into `out`. */
  compact(out: StepRows): StepRows {
    const stamp = nextStamp++;
    const m = this.n;
    out.ensure(m);
    const { ids, ts, values, seq } = out;
    const states = out.states;
    let n = 0;
    for (let j = 0; j < m; j++) {
      const st = this.states[j]!;
      const t = this.ts[j]!;
      if (st.stamp === stamp) {
        if (ts[st.row]! <= t) {
          ts[st.row] = t;
          values[st.row] = this.values[j]!;
          seq[st.row] = this.seq[j]!;
        }
        continue;
      }
      st.stamp = stamp;
      st.row = n;
      ids[n] = st.id;
      ts[n] = t;
      values[n] = this.values[j]!;
      seq[n] = this.seq[j]!;
      states[n] = st;
      n++;
    }
    out.n = n;
    return out;
  }
}

/**
 * Takes committed samples after the cursor (from the commit hand-off, else the database), aligns
 * them to a fixed step grid (last value wins within a step), scores each complete step with the
 * engine in time order, and writes scores, anomalies, stream state and (in the worker) the
 * 1-minute rollup. A clock's newest step is held back while more samples are coming (a round
 * read some) or it is younger than two steps of wall time, so that samples of one scrape
 * arriving in separate commits or reads are scored together; steps that start after the wall
 * clock wait for it, so that one stream's future timestamps never move a clock past the others.
 *
 * Exactly once across crashes: a snapshot's cursor (`safeCursor`) stays below every sample
 * read but not yet scored, and every written score batch records the read cursor
 * (`worker_scored_seq`) in its transaction. A pipeline restored from a snapshot replays up to that
 * seq (`replayUntil`): it reads the same samples in seq order, relearns the detectors' state, and
 * writes only the score rows not stored yet. Rollup rows are exactly-once by their own watermark;
 * anomalies and stream rows are upserts by key. A failing write is retried until it succeeds.
 */
function pick(c: ScoreColumns, idx: number[]): ScoreColumns {
  const f = (a: ArrayLike<number | null>) => idx.map((i) => a[i] ?? Number.NaN);
  return { streamIds: idx.map((i) => c.streamIds[i]!), tsMs: f(c.tsMs), score: f(c.score), confidence: f(c.confidence), expected: f(c.expected), lower: f(c.lower), upper: f(c.upper) };
}

export class DetectPipeline {
  cursor: number;
  /**
   * Per clock domain, its held-back steps: the newest (until a later step exists or it is old
   * enough) and any ahead of the wall clock (see `tick`).
   */
  private pending = new Map<number, Map<number, StepBucket>>();
  /** Replay after a restart: reads stop at this seq and score rows are checked against stored ones. */
  replayUntil = 0;
  /** Score rows of samples with seq at or below this may be stored already (checked before writing). */
  suppressUpTo = 0;
  /** The cursor whose results are all written (what the heartbeat reports; see `safeCursor`). */
  committedCursor: number;
  /** Reports write failures and what else an operator should know (the worker's log). */
  log: (msg: string) => void = () => undefined;
  private stopping = false;
  /** Per-stream state; the dirty ones are written to the stream rows every few seconds. */
  private readonly rows = new StreamRows();
  private readonly health = new HealthRows();
  /** Scored buckets, for reuse (see `StepBucket`). */
  private readonly bucketPool: StepBucket[] = [];
  private readonly stepRows = new StepRows();
  private readonly scoreBatches = [new ScoreBatch(), new ScoreBatch()];
  /** This run's score minutes in progress (see `prepareScores`); a restarted pipeline starts empty. */
  private readonly scoreMinutes = new ScoreMinuteFold();
  private scoreTurn = 0;
  private kinds = new Map<number, TStreamKind>();
  /** The previous round's writes, overlapping this round's read and scoring (see `tick`). */
  private inflight: Promise<void> = Promise.resolve();
  private writeError: unknown = null;
  readonly stats: PipelineStats = {
    samplesRead: 0,
    stepsScored: 0,
    lateSamples: 0,
    lateScored: 0,
    scoresWritten: 0,
    eventsWritten: 0,
    lastBatchMs: 0,
    readMs: 0,
    scoreMs: 0,
    writeMs: 0,
    pendingSamples: 0,
    writeFailures: 0,
    lastWriteError: null,
    lastWriteErrorAtMs: null,
    writeRetrying: false,
    replaySkipped: 0,
    endedGapsDropped: 0,
  };
  private readonly endedGaps = new EndedGapFilter();

  constructor(
    readonly engine: EnginePort,
    cursor: number,
    readonly stepMs = STEP_MS,
    readonly batchLimit = 100_000,
    /** When set, the pipeline also maintains the 1-minute rollup from what it reads (the worker). */
    readonly rollup: RollupBuffer | null = null,
    /** Batches handed over by ingest right after their commit (see `server/worker/handoff.ts`). */
    readonly handoff = new HandoffQueue(),
  ) {
    this.cursor = cursor;
    this.committedCursor = cursor;
  }

  /** Whether the pipeline is still replaying what it had scored before a restart. */
  get replaying(): boolean {
    return this.cursor < this.replayUntil;
  }

  /**
   * The cursor a snapshot may record: below every sample that was read but is not scored yet
   * (held-back steps), so that a restore reads those again instead of skipping them.
   */
  safeCursor(): number {
    let c = this.cursor;
    for (const buckets of this.pending.values()) for (const b of buckets.values()) if (b.n > 0) c = Math.min(c, b.minSeq - 1);
    return c;
  }

  /** Stops retrying failed writes (shutdown): `drain` then rethrows the failure. */
  stopRetrying(): void {
    this.stopping = true;
  }

  /**
   * Adds the batch's unknown streams to the engine. A stream whose first sample is well behind
   * the live clock (backfilled history) joins a history clock domain, which replays that
   * history through the detectors in time order instead of dropping it as late.
   */
  private async ensureStreams(fresh: NewSampleColumns, nowMs: number): Promise<void> {
    let firstTs: Map<number, number> | null = null;
    for (let i = 0; i < fresh.rows; i++) {
      const id = fresh.streamIds[i]!;
      // a known clock domain means the engine has the stream (a table read, not an engine lookup)
      if (this.stateOf(id).domain >= 0 || this.engine.hasStream(id)) continue;
      firstTs ??= new Map();
      const t = fresh.tsMs[i]!;
      if (t < (firstTs.get(id) ?? Infinity)) firstTs.set(id, t);
    }
    if (!firstTs) return;
    let unknownKind = false;
    for (const id of firstTs.keys()) if (!this.kinds.has(id)) unknownKind = true;
    if (unknownKind) for (const r of await allStreamKinds()) this.kinds.set(r.id, r.kind);
    // right after a start the live clock may be far behind the wall clock (or unset): history
    // sent then is still history, not live data that would move the live clock past the rest
    const live = Math.max(this.engine.lastStepMs(0), Math.floor(nowMs / this.stepMs) * this.stepMs);
    // domains first, so that each engine grows its per-stream state once for all its new streams
    const domains = new Int32Array(firstTs.size);
    const perDomain = new Map<number, number>();
    let k = 0;
    let behind = 0;
    for (const t of firstTs.values()) {
      const b = Math.floor(t / this.stepMs) * this.stepMs;
      const domain = b < live - historyAfterMs(this.stepMs) ? this.engine.historyDomain(b) : 0;
      if (domain > 0 && this.engine.lastStepMs(domain) >= b) behind++;
      domains[k++] = domain;
      perDomain.set(domain, (perDomain.get(domain) ?? 0) + 1);
    }
    // only at the history domains' cap: say so, since those streams learn less than they could
    if (behind > 0) this.log(`${behind} new stream(s) joined a history clock domain already past their first samples (history domains at their cap): those samples are scored as late samples, without learning from them`);
    for (const [domain, count] of perDomain) this.engine.reserveStreams?.(count, domain);
    k = 0;
    for (const id of firstTs.keys()) this.engine.addStream(id, this.kinds.get(id) ?? "gauge", domains[k++]!);
  }

  /**
   * One read-score-write round; returns the number of samples read. With `overlap`, the round's
   * writes run in the background while the next round reads and scores (the database and the
   * engine then work at the same time); writes stay in order, and `drain()` waits for them.
   */
  async tick(nowMs: number, opts: { overlap?: boolean } = {}): Promise<number> {
    const t0 = performance.now();
    const replaying = this.replaying;
    const fresh = (replaying ? null : this.handoff.take(this.cursor, this.batchLimit)) ?? (await this.readGap(replaying));
    const tRead = performance.now();
    this.stats.readMs += tRead - t0;
    const n = fresh.rows;
    const readCursor = Math.max(this.cursor, fresh.lastSeq);
    this.cursor = readCursor;
    this.rollup?.add(fresh);
    this.stats.samplesRead += n;
    if (n === 0 && this.pending.size === 0) {
      if (!opts.overlap) await this.drain();
      else await this.noteCommitted();
      return 0;
    }
    await this.ensureStreams(fresh, nowMs);

    // per clock domain: its steps of this round (the held-back ones first) and its newest step
    const rounds = new Map<number, { last: number; buckets: Map<number, StepBucket> }>();
    const roundOf = (domain: number) => {
      let r = rounds.get(domain);
      if (!r) rounds.set(domain, (r = { last: this.engine.lastStepMs(domain), buckets: new Map() }));
      return r;
    };
    for (const [domain, held] of this.pending) {
      const r = roundOf(domain);
      for (const [b, bucket] of held) r.buckets.set(b, bucket);
    }
    this.pending.clear();
    // samples of one scrape arrive together: remember the last bucket instead of a map lookup each
    const late = this.late;
    late.clear();
    let curDomain = -1;
    let curRound = roundOf(0);
    let curB = Number.NaN;
    let cur: StepBucket | undefined;
    for (let i = 0; i < n; i++) {
      const id = fresh.streamIds[i]!;
      const st = this.stateOf(id);
      const t = fresh.tsMs[i]!;
      this.rows.noteSample(st, t, fresh.values[i]!, nowMs, this.stepMs);
      if (st.domain < 0) st.domain = this.engine.domainOf(id);
      if (st.domain !== curDomain) {
        curDomain = st.domain;
        curRound = roundOf(curDomain);
        curB = Number.NaN;
      }
      const b = Math.floor(t / this.stepMs) * this.stepMs;
      if (b <= curRound.last) {
        this.stats.lateSamples++;
        late.put(curDomain, id, t, fresh.values[i]!, fresh.seq[i]!);
        continue;
      }
      if (b !== curB) {
        curB = b;
        cur = curRound.buckets.get(b);
        if (!cur) curRound.buckets.set(b, (cur = this.bucketPool.pop() ?? new StepBucket()));
      }
      cur!.put(st, t, fresh.values[i]!, fresh.seq[i]!);
    }
    let capacity = late.n;
    for (const r of rounds.values()) for (const bucket of r.buckets.values()) capacity += bucket.n;
    const scores = this.nextScoreBatch(capacity);
    const events = new Map<string, EngineEvent>();
    let pendingSamples = 0;
    for (const [domain, r] of [...rounds].sort((a, b) => a[0] - b[0])) {
      const steps = [...r.buckets.keys()].sort((x, y) => x - y);
      // the newest step that has begun by the wall clock; later ones wait for it
      let newest = -Infinity;
      for (const b of steps) if (b <= nowMs) newest = b;
      const holdNewest = replaying || n > 0 || nowMs < newest + 2 * this.stepMs;
      let held: Map<number, StepBucket> | undefined;
      for (const b of steps) {
        const bucket = r.buckets.get(b)!;
        if (held || b > nowMs || (b === newest && holdNewest)) {
          if (!held) this.pending.set(domain, (held = new Map()));
          held.set(b, bucket);
          pendingSamples += bucket.n;
          continue;
        }
        this.scoreStep(domain, b, bucket, scores, events);
        bucket.clear();
        this.bucketPool.push(bucket);
      }
    }
    this.stats.pendingSamples = pendingSamples;
    if (late.n) this.scoreLate(scores);
    this.mergeCaughtUp(nowMs);
    if (events.size) {
      // the cursor has moved past this round's samples: a failed read is retried, not thrown
      await this.endedGaps.apply(events, (id) => this.stateOf(id).tsMs, (ids) => this.retrying("ended-stream check", () => readEndedStreams(ids)));
      this.stats.endedGapsDropped = this.endedGaps.droppedEvents;
    }
    this.stats.scoreMs += performance.now() - tRead;
    await this.drain();
    const tWrite = performance.now();
    const safe = this.safeCursor();
    this.inflight = this.write(scores, [...events.values()], readCursor)
      .then(() => {
        this.committedCursor = Math.max(this.committedCursor, safe);
      })
      .catch((e: unknown) => {
        this.writeError = e;
      })
      .finally(() => (this.stats.writeMs += performance.now() - tWrite));
    if (!opts.overlap) await this.drain();
    this.stats.lastBatchMs = performance.now() - t0;
    return n;
  }

  /**
   * Streams of history domains that have caught up with the live clock join it (see
   * `EngineAdapter.mergeCaughtUp`), with their held-back steps: those are past the domain's
   * clock, so past the live one too.
   */
  private mergeCaughtUp(nowMs: number): void {
    const moved = this.engine.mergeCaughtUp?.(nowMs - historyAfterMs(this.stepMs));
    if (!moved || moved.ids.length === 0) return;
    for (const id of moved.ids) this.stateOf(id).domain = 0;
    const ids = new Set(moved.ids);
    for (const d of moved.domains) {
      const held = this.pending.get(d);
      if (!held) continue;
      let live = this.pending.get(0);
      for (const [b, bucket] of held) {
        if (!live) this.pending.set(0, (live = new Map()));
        let into = live.get(b);
        if (!into) live.set(b, (into = this.bucketPool.pop() ?? new StepBucket()));
        // the samples of streams that moved go with them; the rest stay held in their domain
        bucket.moveOut((st) => ids.has(st.id), into);
        if (into.n === 0) {
          live.delete(b);
          this.bucketPool.push(into);
        }
        if (bucket.n === 0) {
          held.delete(b);
          bucket.clear();
          this.bucketPool.push(bucket);
        }
      }
      if (held.size === 0) this.pending.delete(d);
      if (live?.size === 0) this.pending.delete(0);
    }
    this.log(`${moved.ids.length} stream(s) of history clock domain(s) ${moved.domains.join(", ")} caught up with the live clock and joined it`);
  }

  /** With nothing to score, the committed cursor follows the read cursor once earlier writes are done. */
  private async noteCommitted(): Promise<void> {
    await this.drain();
    this.committedCursor = Math.max(this.committedCursor, this.safeCursor());
  }

  /** Samples of this round behind their clock (see `LateSamples`); scratch, reused every round. */
  private readonly late = new LateSamples();

  /**
   * Scores the round's late samples after its steps, on scratch copies of their streams' models
   * (the live state, sparklines and latest values are not changed), as rows at the end of the
   * batch that are checked against stored scores before writing (exactly once: a late sample
   * may be a re-delivery of one scored before).
   */
  private scoreLate(scores: ScoreBatch): void {
    const engine = this.engine;
    if (!canScoreLate(engine)) return;
    scores.lateFrom = scores.length;
    for (const g of this.late.byDomain()) {
      engine.scoreLate(g.domain, this.stepMs, g.ids, g.values, g.groupEnds, (k, score, confidence, expected, lower, upper) => {
        scores.pushRow(g.ids[k]!, g.seq[k]!, g.tsMs[k]!, score, confidence, expected, lower, upper);
        this.stats.lateScored++;
      });
    }
  }

  /** Scores one step of one clock domain: score rows, stream state and sparklines, events. */
  private scoreStep(domain: number, stepMs: number, bucket: StepBucket, scores: ScoreBatch, events: Map<string, EngineEvent>): void {
    const m = bucket.compact(this.stepRows);
    const out = this.engine.step(stepMs, m.ids.subarray(0, m.n), m.values.subarray(0, m.n), m.ts.subarray(0, m.n), domain);
    this.stats.stepsScored++;
    const sc = out.scores;
    scores.pushStep(sc, m.seq);
    for (let j = 0; j < sc.n; j++) {
      const st = m.states[sc.at[j]!]!;
      const t = sc.tsMs[j]!;
      const v = m.values[sc.at[j]!]!;
      this.rows.noteScore(st, t, v, sc.score[j]!);
    }
    for (const e of out.events) events.set(e.engineId, e);
  }

  /**
   * What the hand-off does not cover, from the database: only up to the first held batch (a
   * gap left by a commit that was not handed off, e.g. a re-send or a CSV import). With an empty
   * queue while hand-offs keep arriving, the newest commit is most likely on its way in memory,
   * so the read waits a round; after a second without hand-offs the database is read as usual.
   * While replaying (see `replayUntil`) the read stops at that seq and the hand-off is not used.
   */
  private async readGap(replaying: boolean): Promise<NewSampleColumns> {
    if (replaying) {
      const read = await readSamplesAfter(this.cursor, this.batchLimit, this.replayUntil);
      // nothing left up to it: the seqs in between were rolled back
      if (read.rows === 0) read.lastSeq = this.replayUntil;
      return read;
    }
    const held = this.handoff.firstHeldSeq();
    if (held === null && this.handoff.active()) return { rows: 0, lastSeq: this.cursor, seq: new Float64Array(0), streamIds: new Int32Array(0), tsMs: new Float64Array(0), values: new Float64Array(0) };
    const read = await readSamplesAfter(this.cursor, this.batchLimit, held === null ? undefined : held - 1);
    // Seqs are drawn under the ingest lock until commit, so every seq below a committed batch is
    // settled: what the read did not return there was rolled back, and the cursor may pass it.
    // Only an empty read says so: a read returns whole block rows up to about `batchLimit`
    // samples, so a shorter read may still have stopped before rows that are there.
    if (held !== null && read.rows === 0) read.lastSeq = held - 1;
    return read;
  }

  /** Deleted streams: the engine forgot them; if samples of theirs still come, they join afresh. */
  forgetStreams(ids: readonly number[]): void {
    this.rows.forget(ids);
  }

  /** After the engine was replaced (snapshot rollback): stream domains are read from it again. */
  engineReplaced(): void {
    for (const st of this.rows.states) st.domain = -1;
    // held steps of history clocks that the replaced engine no longer has are dropped (their
    // streams re-join from their next samples)
    for (const d of [...this.pending.keys()]) if (d !== 0) this.pending.delete(d);
  }

  private stateOf(id: number): StreamState {
    return this.rows.stateOf(id);
  }

  /** The score batch not being written by the previous round (see `ScoreBatch`). */
  private nextScoreBatch(capacity: number): ScoreBatch {
    this.scoreTurn ^= 1;
    return this.scoreBatches[this.scoreTurn]!.reset(capacity);
  }

  /** Waits for the writes of earlier rounds; rethrows their failure. */
  async drain(): Promise<void> {
    await this.inflight;
    if (this.writeError !== null) {
      const e = this.writeError;
      this.writeError = null;
      throw e;
    }
  }

  /**
   * Writes one round's results. Each part is retried until it succeeds (`retrying`): the read
   * cursor has moved past these samples, so a write that gave up would lose their results.
   */
  private async write(scores: ScoreBatch, events: EngineEvent[], readCursor: number): Promise<void> {
    // Independent writes on separate connections, so that PostgreSQL can spread them over its
    // cores. (Scores are packed 32 to a row now, so one COPY carries a batch cheaply.)
    await Promise.all([
      this.flushStreamsIfDue().catch((e: unknown) => this.noteWriteError("stream rows", e)),
      this.retrying("rollup", () => this.writeRollup(false)),
      this.writeScores(scores, readCursor),
    ]);
    if (events.length) {
      const rows = events.map(anomalyRow);
      await this.retrying("anomalies", () => upsertAnomalies(rows));
      this.stats.eventsWritten += events.length;
    }
  }

  /**
   * Score rows and the scoring progress in one transaction. Rows of samples at or below
   * `suppressUpTo` (a replay after a crash) are checked against the stored ones first: stored
   * rows are not written again (only folded into their minute when its row was not written).
   */
  private async writeScores(scores: ScoreBatch, readCursor: number): Promise<void> {
    let cols = scores.columns();
    let foldOnly: ScoreColumns | undefined;
    const seqs = scores.seqs();
    // rows that may be stored already: a replay's, and late samples'
    const check: number[] = [];
    for (let i = 0; i < seqs.length; i++) if (seqs[i]! <= this.suppressUpTo || i >= scores.lateFrom) check.push(i);
    if (check.length) {
      const c = cols;
      const sub = pick(c, check);
      const { scored, minuteWritten } = await this.retrying("score check", () => scoredAlready(sub.streamIds, sub.tsMs));
      const stored = new Uint8Array(seqs.length);
      const fold: number[] = [];
      check.forEach((i, j) => {
        if (scored[j] === 0) return;
        stored[i] = 1;
        if (minuteWritten[j] === 0) fold.push(i);
      });
      const keep: number[] = [];
      for (let i = 0; i < seqs.length; i++) if (!stored[i]) keep.push(i);
      this.stats.replaySkipped += seqs.length - keep.length;
      if (keep.length < seqs.length) cols = pick(c, keep);
      foldOnly = pick(c, fold);
    }
    if (cols.tsMs.length === 0 && !foldOnly?.tsMs.length) return;
    const prepared = prepareScores(cols, { scoredSeq: readCursor, foldOnly, minutes: this.scoreMinutes });
    await this.retrying("scores", () => prepared.run());
    this.stats.scoresWritten += cols.tsMs.length;
  }

  /**
   * Runs a write until it succeeds, backing off (0.5 s doubling to 30 s) and reporting each
   * failure; gives up only when the pipeline is stopping.
   */
  private async retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const v = await fn();
        if (attempt > 0) {
          this.stats.writeRetrying = false;
          this.log(`${what} write succeeded after ${attempt} retr${attempt === 1 ? "y" : "ies"}`);
        }
        return v;
      } catch (e) {
        this.noteWriteError(what, e);
        if (this.stopping) throw e;
        this.stats.writeRetrying = true;
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** Math.min(attempt, 6))));
      }
    }
  }

  private noteWriteError(what: string, e: unknown): void {
    this.stats.writeFailures++;
    this.stats.lastWriteError = `${what}: ${(e as Error)?.message ?? String(e)}`;
    this.stats.lastWriteErrorAtMs = Date.now();
    this.log(`writing ${what} failed (retrying): ${(e as Error)?.message ?? String(e)}`);
  }

  /** Writes the buffered latest values and sparkline points (the worker also flushes on shutdown). */
  flushStreams(): Promise<void> {
    return this.rows.flush();
  }

  /** Writes completed rollup minutes (all open ones with `all`, at shutdown) and the watermark. */
  async writeRollup(all: boolean): Promise<void> {
    if (!this.rollup) return;
    const { rows, watermark } = all ? this.rollup.flushAll() : this.rollup.flush();
    if (rows.rows === 0 && watermark === this.lastRollupWatermark) return;
    try {
      await writeRollup(rows, watermark);
    } catch (e) {
      this.rollup.requeue(rows);
      throw e;
    }
    this.rollup.commit(watermark);
    this.lastRollupWatermark = watermark;
  }
  private lastRollupWatermark = -1;

  /** Writes the score minutes still in progress (at shutdown). */
  flushScoreMinutes(): Promise<void> {
    return flushScoreMinutes(this.scoreMinutes);
  }

  /** Flushes the buffered stream rows when their flush interval is up. */
  flushStreamsIfDue(): Promise<void> {
    return this.rows.flushIfDue();
  }

  writeHealth(): Promise<void> {
    return this.health.write(this.engine);
  }
}
