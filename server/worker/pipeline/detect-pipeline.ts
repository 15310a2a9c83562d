import type { TStreamKind } from "@/lib/schemas/stream";
import { upsertAnomalies } from "../../repos/anomalies-repo";
import { readSamplesAfter, type NewSample } from "../../repos/samples-repo";
import { insertScores } from "../../repos/scores-repo";
import { allStreamKinds, updateStreamRecent, upsertStreamHealth, type StreamRecent } from "../../repos/streams-repo";
import type { EngineEvent, EnginePort, StreamScore } from "./engine-port";

/** How often buffered stream rows (latest value, sparkline) are written. */
const RECENT_FLUSH_MS = 3_000;
/** Sparkline points kept per stream (the stream row holds the same number). */
const SPARK_KEEP = 60;

export interface PipelineStats {
  samplesRead: number;
  stepsScored: number;
  lateSamples: number;
  scoresWritten: number;
  eventsWritten: number;
  lastBatchMs: number;
}

/**
 * Reads committed samples after the cursor, aligns them to a fixed step grid (last value wins
 * within a step), scores each complete step with the engine in time order, and writes scores,
 * anomalies and stream state. A step is held back until a later step exists or it is older
 * than two steps of wall time, so that samples of one scrape arriving in separate commits are
 * scored together.
 */
export class DetectPipeline {
  cursor: number;
  private pending: NewSample[] = [];
  /** Latest values and sparkline points per stream, written to the stream rows every few seconds. */
  private recent = new Map<number, StreamRecent>();
  private lastFlushMs = 0;
  private kinds = new Map<number, TStreamKind>();
  readonly stats: PipelineStats = { samplesRead: 0, stepsScored: 0, lateSamples: 0, scoresWritten: 0, eventsWritten: 0, lastBatchMs: 0 };

  constructor(
    readonly engine: EnginePort,
    cursor: number,
    readonly stepMs = 10_000,
    readonly batchLimit = 100_000,
  ) {
    this.cursor = cursor;
  }

  private async ensureStreams(samples: NewSample[]): Promise<void> {
    let unknown = false;
    for (const s of samples) if (!this.kinds.has(s.streamId)) unknown = true;
    if (unknown) for (const r of await allStreamKinds()) this.kinds.set(r.id, r.kind);
    for (const s of samples) {
      if (!this.engine.hasStream(s.streamId)) this.engine.addStream(s.streamId, this.kinds.get(s.streamId) ?? "gauge");
    }
  }

  /** One read-score-write round; returns the number of samples read. */
  async tick(nowMs: number): Promise<number> {
    const t0 = performance.now();
    const fresh = await readSamplesAfter(this.cursor, this.batchLimit);
    if (fresh.length) this.cursor = fresh[fresh.length - 1]!.seq;
    this.stats.samplesRead += fresh.length;
    const all = this.pending.concat(fresh);
    if (all.length === 0) return 0;
    await this.ensureStreams(fresh);

    const bucketOf = (t: number) => Math.floor(t / this.stepMs) * this.stepMs;
    const buckets = new Map<number, Map<number, NewSample>>();
    let maxBucket = -Infinity;
    const last = this.engine.lastStepMs();
    const latest = new Map<number, NewSample>();
    for (const s of fresh) {
      const l = latest.get(s.streamId);
      if (!l || l.tsMs <= s.tsMs) latest.set(s.streamId, s);
    }
    for (const s of all) {
      const b = bucketOf(s.tsMs);
      if (b <= last) {
        this.stats.lateSamples++;
        continue;
      }
      let m = buckets.get(b);
      if (!m) buckets.set(b, (m = new Map()));
      const prev = m.get(s.streamId);
      if (!prev || prev.tsMs <= s.tsMs) m.set(s.streamId, s);
      if (b > maxBucket) maxBucket = b;
    }
    const order = [...buckets.keys()].sort((a, b) => a - b);
    this.pending = [];
    const scores: StreamScore[] = [];
    const events = new Map<string, EngineEvent>();
    const spark = new Map<number, { t: number[]; v: number[]; s: number[] }>();
    for (const b of order) {
      const m = buckets.get(b)!;
      const holdBack = b === maxBucket && nowMs < b + 2 * this.stepMs;
      if (holdBack) {
        this.pending.push(...m.values());
        continue;
      }
      const ids = [...m.keys()];
      const values = new Float64Array(ids.length);
      const ts = new Float64Array(ids.length);
      ids.forEach((id, i) => {
        const s = m.get(id)!;
        values[i] = s.value;
        ts[i] = s.tsMs;
      });
      const out = this.engine.step(b, ids, values, ts);
      this.stats.stepsScored++;
      scores.push(...out.scores);
      for (const sc of out.scores) {
        let p = spark.get(sc.streamId);
        if (!p) spark.set(sc.streamId, (p = { t: [], v: [], s: [] }));
        p.t.push(sc.tsMs);
        p.v.push(m.get(sc.streamId)?.value ?? Number.NaN);
        p.s.push(Math.round(sc.score * 10) / 10);
      }
      for (const e of out.events) events.set(e.engineId, e);
    }
    await this.write(scores, [...events.values()], latest, spark);
    this.stats.lastBatchMs = performance.now() - t0;
    return fresh.length;
  }

  private async write(
    scores: StreamScore[],
    events: EngineEvent[],
    latest: Map<number, NewSample>,
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
    if (Date.now() - this.lastFlushMs >= RECENT_FLUSH_MS) await this.flushStreams();
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

  async writeHealth(): Promise<void> {
    await upsertStreamHealth(this.engine.health().map((h) => ({ id: h.streamId, ...h })));
  }
}
