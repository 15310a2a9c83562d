import type { TStreamKind } from "@/lib/schemas/stream";
import { upsertAnomalies } from "../../repos/anomalies-repo";
import { readSamplesAfter, writeRollup, type NewSampleColumns } from "../../repos/samples-repo";
import type { RollupBuffer } from "./rollup-buffer";
import { HandoffQueue } from "./handoff-queue";
import { insertScores, type ScoreColumns } from "../../repos/scores-repo";
import { allStreamKinds, updateStreamRecent, upsertStreamHealth, type StreamRecent } from "../../repos/streams-repo";
import type { EngineEvent, EnginePort, StreamScore } from "./engine-port";

/**
 * How often buffered stream rows (latest value, sparkline) are written: every 3 s, stretched
 * to 0.5 ms per buffered stream so that many streams do not rewrite their rows on every
 * scrape (20,000 streams: every 10 s, about as often as the overview refreshes them).
 */
const flushIntervalMs = (buffered: number) => Math.max(3_000, 0.5 * buffered);
/** Sparkline points kept per stream (the stream row holds the same number). */
const SPARK_KEEP = 60;

export interface PipelineStats {
  samplesRead: number;
  stepsScored: number;
  lateSamples: number;
  scoresWritten: number;
  eventsWritten: number;
  lastBatchMs: number;
  /** Cumulative wall time reading samples, scoring them, and writing results (ms). */
  readMs: number;
  scoreMs: number;
  writeMs: number;
}

/** Score batches at least this large are written as two concurrent COPYs. */
const SPLIT_SCORES_AT = 20_000;

/** Score rows of one round, column-wise (what `insertScores` writes). */
class ScoreBatch {
  length = 0;
  private readonly c: { [K in keyof ScoreColumns]: Float64Array };
  constructor(capacity: number) {
    const col = () => new Float64Array(capacity);
    this.c = { streamIds: col(), tsMs: col(), score: col(), confidence: col(), expected: col(), lower: col(), upper: col() };
  }
  push(s: StreamScore): void {
    const i = this.length++;
    const c = this.c;
    c.streamIds[i] = s.streamId;
    c.tsMs[i] = s.tsMs;
    c.score[i] = s.score;
    c.confidence[i] = s.confidence;
    c.expected[i] = s.expected ?? Number.NaN; // NaN: no band (stored as NULL)
    c.lower[i] = s.lower ?? Number.NaN;
    c.upper[i] = s.upper ?? Number.NaN;
  }
  columns(from = 0, to = this.length): ScoreColumns {
    const c = this.c;
    return {
      streamIds: c.streamIds.subarray(from, to),
      tsMs: c.tsMs.subarray(from, to),
      score: c.score.subarray(from, to),
      confidence: c.confidence.subarray(from, to),
      expected: c.expected.subarray(from, to),
      lower: c.lower.subarray(from, to),
      upper: c.upper.subarray(from, to),
    };
  }
  split(k: number): ScoreColumns[] {
    const size = Math.ceil(this.length / k);
    const out: ScoreColumns[] = [];
    for (let from = 0; from < this.length; from += size) out.push(this.columns(from, Math.min(this.length, from + size)));
    return out;
  }
}

/** The samples of one step, one per stream (the newest sample of the stream in that step). */
class StepBucket {
  readonly slot = new Map<number, number>();
  readonly ids: number[] = [];
  readonly ts: number[] = [];
  readonly values: number[] = [];

  put(id: number, tsMs: number, value: number): void {
    const k = this.slot.get(id);
    if (k === undefined) {
      this.slot.set(id, this.ids.length);
      this.ids.push(id);
      this.ts.push(tsMs);
      this.values.push(value);
    } else if (this.ts[k]! <= tsMs) {
      this.ts[k] = tsMs;
      this.values[k] = value;
    }
  }
}

/**
 * Takes committed samples after the cursor (from the commit hand-off, else the database), aligns
 * them to a fixed step grid (last value wins within a step), scores each complete step with the
 * engine in time order, and writes scores, anomalies, stream state and (in the worker) the
 * 1-minute rollup. A step is held back until a later step exists or it is older
 * than two steps of wall time, so that samples of one scrape arriving in separate commits are
 * scored together.
 */
export class DetectPipeline {
  cursor: number;
  /** The newest step, held back until a later step exists (see `tick`). */
  private pending: StepBucket | null = null;
  private pendingStepMs = -Infinity;
  /** Latest values and sparkline points per stream, written to the stream rows every few seconds. */
  private recent = new Map<number, StreamRecent>();
  private lastFlushMs = 0;
  private kinds = new Map<number, TStreamKind>();
  /** Batches handed over by ingest right after their commit (see `commit-handoff`). */
  readonly handoff = new HandoffQueue();
  /** The previous round's writes, overlapping this round's read and scoring (see `tick`). */
  private inflight: Promise<void> = Promise.resolve();
  private writeError: unknown = null;
  readonly stats: PipelineStats = { samplesRead: 0, stepsScored: 0, lateSamples: 0, scoresWritten: 0, eventsWritten: 0, lastBatchMs: 0, readMs: 0, scoreMs: 0, writeMs: 0 };

  constructor(
    readonly engine: EnginePort,
    cursor: number,
    readonly stepMs = 10_000,
    readonly batchLimit = 100_000,
    /** When set, the pipeline also maintains the 1-minute rollup from what it reads (the worker). */
    readonly rollup: RollupBuffer | null = null,
  ) {
    this.cursor = cursor;
  }

  private async ensureStreams(ids: Int32Array): Promise<void> {
    let unknown = false;
    for (const id of ids) if (!this.kinds.has(id)) unknown = true;
    if (unknown) for (const r of await allStreamKinds()) this.kinds.set(r.id, r.kind);
    for (const id of ids) {
      if (!this.engine.hasStream(id)) this.engine.addStream(id, this.kinds.get(id) ?? "gauge");
    }
  }

  /**
   * One read-score-write round; returns the number of samples read. With `overlap`, the round's
   * writes run in the background while the next round reads and scores (the database and the
   * engine then work at the same time); writes stay in order, and `drain()` waits for them.
   */
  async tick(nowMs: number, opts: { overlap?: boolean } = {}): Promise<number> {
    const t0 = performance.now();
    const fresh = this.handoff.take(this.cursor, this.batchLimit) ?? (await this.readGap());
    const tRead = performance.now();
    this.stats.readMs += tRead - t0;
    const n = fresh.rows;
    this.cursor = Math.max(this.cursor, fresh.lastSeq);
    this.rollup?.add(fresh);
    this.stats.samplesRead += n;
    if (n === 0 && !this.pending) {
      if (!opts.overlap) await this.drain();
      return 0;
    }
    await this.ensureStreams(fresh.streamIds);

    const last = this.engine.lastStepMs();
    const buckets = new Map<number, StepBucket>();
    if (this.pending) buckets.set(this.pendingStepMs, this.pending);
    this.pending = null;
    let maxBucket = buckets.size ? this.pendingStepMs : -Infinity;
    for (let i = 0; i < n; i++) {
      const id = fresh.streamIds[i]!;
      const t = fresh.tsMs[i]!;
      const r = this.recentOf(id);
      if (t >= r.tsMs) {
        r.tsMs = t;
        r.value = fresh.values[i]!;
      }
      const b = Math.floor(t / this.stepMs) * this.stepMs;
      if (b <= last) {
        this.stats.lateSamples++;
        continue;
      }
      let bucket = buckets.get(b);
      if (!bucket) buckets.set(b, (bucket = new StepBucket()));
      bucket.put(id, t, fresh.values[i]!);
      if (b > maxBucket) maxBucket = b;
    }
    const order = [...buckets.keys()].sort((a, b) => a - b);
    let capacity = 0;
    for (const b of order) capacity += buckets.get(b)!.ids.length;
    const scores = new ScoreBatch(capacity);
    const events = new Map<string, EngineEvent>();
    for (const b of order) {
      const m = buckets.get(b)!;
      if (b === maxBucket && nowMs < b + 2 * this.stepMs) {
        this.pending = m;
        this.pendingStepMs = b;
        continue;
      }
      const out = this.engine.step(b, m.ids, Float64Array.from(m.values), Float64Array.from(m.ts));
      this.stats.stepsScored++;
      for (const sc of out.scores) {
        scores.push(sc);
        const k = m.slot.get(sc.streamId);
        const v = k === undefined ? Number.NaN : m.values[k]!;
        const r = this.recentOf(sc.streamId);
        if (sc.tsMs >= r.tsMs) {
          // held-back samples scored now may be the stream's newest point this round
          r.tsMs = sc.tsMs;
          r.value = v;
        }
        r.score = sc.score;
        r.spark.t.push(sc.tsMs);
        r.spark.v.push(v);
        r.spark.s.push(Math.round(sc.score * 10) / 10);
        if (r.spark.t.length > 2 * SPARK_KEEP) {
          const cut = r.spark.t.length - SPARK_KEEP;
          r.spark.t.splice(0, cut);
          r.spark.v.splice(0, cut);
          r.spark.s.splice(0, cut);
        }
      }
      for (const e of out.events) events.set(e.engineId, e);
    }
    this.stats.scoreMs += performance.now() - tRead;
    await this.drain();
    const tWrite = performance.now();
    this.inflight = this.write(scores, [...events.values()])
      .catch((e: unknown) => {
        this.writeError = e;
      })
      .finally(() => (this.stats.writeMs += performance.now() - tWrite));
    if (!opts.overlap) await this.drain();
    this.stats.lastBatchMs = performance.now() - t0;
    return n;
  }

  /**
   * What the hand-off does not cover, from the database: only up to the first held batch (a
   * gap left by a commit that was not handed off, e.g. a re-send or a CSV import). With an empty
   * queue while hand-offs keep arriving, the newest commit is most likely on its way in memory,
   * so the read waits a round; after a second without hand-offs the database is read as usual.
   */
  private async readGap(): Promise<NewSampleColumns> {
    const held = this.handoff.firstHeldSeq();
    if (held === null && this.handoff.active()) return { rows: 0, lastSeq: this.cursor, seq: new Float64Array(0), streamIds: new Int32Array(0), tsMs: new Float64Array(0), values: new Float64Array(0) };
    const read = await readSamplesAfter(this.cursor, this.batchLimit, held === null ? undefined : held - 1);
    // Seqs are drawn under the ingest lock until commit, so every seq below a committed batch is
    // settled: what the read did not return there was rolled back, and the cursor may pass it.
    if (held !== null && read.rows < this.batchLimit) read.lastSeq = held - 1;
    return read;
  }

  /** The stream's buffered row update (latest value, score and new sparkline points). */
  private recentOf(id: number): StreamRecent & { spark: { t: number[]; v: number[]; s: number[] } } {
    let r = this.recent.get(id);
    if (!r) this.recent.set(id, (r = { id, tsMs: -Infinity, value: Number.NaN, score: null, spark: { t: [], v: [], s: [] } }));
    return r as StreamRecent & { spark: { t: number[]; v: number[]; s: number[] } };
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

  private async write(scores: ScoreBatch, events: EngineEvent[]): Promise<void> {
    // Independent writes on separate connections, so that PostgreSQL can spread them over its
    // cores; large score batches are split in two COPYs for the same reason.
    const parts = scores.length >= SPLIT_SCORES_AT ? scores.split(2) : scores.length ? [scores.columns()] : [];
    await Promise.all([this.flushStreamsIfDue(), this.writeRollup(false), ...parts.map((p) => insertScores(p))]);
    this.stats.scoresWritten += scores.length;
    if (events.length) {
      await upsertAnomalies(
        events.map((e) => ({
          engineId: e.engineId,
          streamId: e.streamIds[0]!,
          streamIds: e.streamIds,
          startMs: e.startMs,
          endMs: e.kind === "closed" ? e.endMs : null,
          peakScore: e.peakScore,
          severity: e.severity,
          type: e.type,
          explanation: e.explanation,
        })),
      );
      this.stats.eventsWritten += events.length;
    }
  }

  /**
   * Writes the buffered latest values and sparkline points (one UPDATE for all touched streams).
   * Buffering turns one row rewrite per stream per round into one per few seconds, which is
   * what the overview's 5-second refresh needs; the worker flushes on shutdown too.
   */
  async flushStreams(): Promise<void> {
    this.lastFlushMs = Date.now();
    if (this.recent.size === 0) return;
    const rows = [...this.recent.values()];
    this.recent.clear();
    await updateStreamRecent(rows);
  }

  /** Writes completed rollup minutes (all open ones with `all`, at shutdown) and the watermark. */
  async writeRollup(all: boolean): Promise<void> {
    if (!this.rollup) return;
    const { rows, watermark } = all ? this.rollup.flushAll() : this.rollup.flush();
    if (rows.length === 0 && watermark === this.lastRollupWatermark) return;
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

  /** Flushes the buffered stream rows when the flush interval (see `flushIntervalMs`) is up. */
  async flushStreamsIfDue(): Promise<void> {
    if (Date.now() - this.lastFlushMs >= flushIntervalMs(this.recent.size)) await this.flushStreams();
  }

  /** Health as last written, per stream: only rows that moved are rewritten. */
  private writtenHealth = new Map<number, string>();

  async writeHealth(): Promise<void> {
    const changed = [];
    for (const h of this.engine.health()) {
      // 0.01 steps: the UI shows health as a percentage
      const sig = `${Math.round(h.health * 100)}:${Math.round(h.availability * 100)}:${h.gapClass}`;
      if (this.writtenHealth.get(h.streamId) === sig) continue;
      changed.push({ id: h.streamId, ...h, sig });
    }
    if (changed.length === 0) return;
    await upsertStreamHealth(changed);
    for (const h of changed) this.writtenHealth.set(h.id, h.sig);
  }
}
