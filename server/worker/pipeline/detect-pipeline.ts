import type { TStreamKind } from "@/lib/schemas/stream";
import { upsertAnomalies } from "../../repos/anomalies-repo";
import { readSamplesAfter } from "../../repos/samples-repo";
import { HandoffQueue } from "./handoff-queue";
import { insertScores } from "../../repos/scores-repo";
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

/**
 * Reads committed samples after the cursor, aligns them to a fixed step grid (last value wins
 * within a step), scores each complete step with the engine in time order, and writes scores,
 * anomalies and stream state. A step is held back until a later step exists or it is older
 * than two steps of wall time, so that samples of one scrape arriving in separate commits are
 * scored together.
 */
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
    const fresh = this.handoff.take(this.cursor, this.batchLimit) ?? (await readSamplesAfter(this.cursor, this.batchLimit));
    const tRead = performance.now();
    this.stats.readMs += tRead - t0;
    const n = fresh.rows;
    if (n) this.cursor = fresh.lastSeq;
    this.stats.samplesRead += n;
    if (n === 0 && !this.pending) return 0;
    await this.ensureStreams(fresh.streamIds);

    const last = this.engine.lastStepMs();
    const buckets = new Map<number, StepBucket>();
    if (this.pending) buckets.set(this.pendingStepMs, this.pending);
    this.pending = null;
    const latest = new Map<number, number>(); // stream → index of its newest fresh sample
    let maxBucket = buckets.size ? this.pendingStepMs : -Infinity;
    for (let i = 0; i < n; i++) {
      const id = fresh.streamIds[i]!;
      const t = fresh.tsMs[i]!;
      const l = latest.get(id);
      if (l === undefined || fresh.tsMs[l]! <= t) latest.set(id, i);
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
    const scores: StreamScore[] = [];
    const events = new Map<string, EngineEvent>();
    const spark = new Map<number, { t: number[]; v: number[]; s: number[] }>();
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
        let p = spark.get(sc.streamId);
        if (!p) spark.set(sc.streamId, (p = { t: [], v: [], s: [] }));
        const k = m.slot.get(sc.streamId);
        p.t.push(sc.tsMs);
        p.v.push(k === undefined ? Number.NaN : m.values[k]!);
        p.s.push(Math.round(sc.score * 10) / 10);
      }
      for (const e of out.events) events.set(e.engineId, e);
    }
    const latestValues = new Map<number, { tsMs: number; value: number }>();
    for (const [id, i] of latest) latestValues.set(id, { tsMs: fresh.tsMs[i]!, value: fresh.values[i]! });
    this.stats.scoreMs += performance.now() - tRead;
    await this.drain();
    const tWrite = performance.now();
    this.inflight = this.write(scores, [...events.values()], latestValues, spark)
      .catch((e: unknown) => {
        this.writeError = e;
      })
      .finally(() => (this.stats.writeMs += performance.now() - tWrite));
    if (!opts.overlap) await this.drain();
    this.stats.lastBatchMs = performance.now() - t0;
    return n;
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

  private async write(
    scores: StreamScore[],
    events: EngineEvent[],
    latest: Map<number, { tsMs: number; value: number }>,
    spark: Map<number, { t: number[]; v: number[]; s: number[] }>,
  ): Promise<void> {
    const lastScore = new Map<number, number>();
    for (const s of scores) lastScore.set(s.streamId, s.score);
    // Streams whose held-back samples were scored this round may have no fresh sample: their
    // newest scored point stands in for "latest".
    for (const id of new Set([...latest.keys(), ...spark.keys()])) {
      const l = latest.get(id);
      const p = spark.get(id);
      const k = p ? p.t.length - 1 : -1;
      this.mergeRecent({ id, tsMs: l ? l.tsMs : p!.t[k]!, value: l ? l.value : p!.v[k]!, score: lastScore.get(id) ?? null, spark: p });
    }
    await this.flushStreamsIfDue();
    if (scores.length) {
      await insertScores({
        streamIds: scores.map((s) => s.streamId),
        tsMs: scores.map((s) => s.tsMs),
        score: scores.map((s) => s.score),
        confidence: scores.map((s) => s.confidence),
        expected: scores.map((s) => s.expected),
        lower: scores.map((s) => s.lower),
        upper: scores.map((s) => s.upper),
      });
      this.stats.scoresWritten += scores.length;
    }
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

  private mergeRecent(r: StreamRecent): void {
    const prev = this.recent.get(r.id);
    if (!prev) {
      this.recent.set(r.id, r);
      return;
    }
    const newer = r.tsMs >= prev.tsMs;
    const spark = prev.spark && r.spark
      ? { t: prev.spark.t.concat(r.spark.t).slice(-SPARK_KEEP), v: prev.spark.v.concat(r.spark.v).slice(-SPARK_KEEP), s: prev.spark.s.concat(r.spark.s).slice(-SPARK_KEEP) }
      : (r.spark ?? prev.spark);
    this.recent.set(r.id, {
      id: r.id,
      tsMs: newer ? r.tsMs : prev.tsMs,
      value: newer ? r.value : prev.value,
      score: newer && r.score !== null ? r.score : prev.score,
      spark,
    });
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
