import { DenseIds } from "@/lib/collections/dense-ids";
import type { EnginePort } from "@/lib/detectors/engine-port";
import { updateStreamRecent, type StreamRecent } from "../../repos/storage/stream-recent";
import { upsertStreamHealth } from "../../repos/streams-repo";
import { SparkRings } from "./spark-rings";

/**
 * How often buffered stream rows (latest value, sparkline) are written: every 3 s, stretched
 * to 0.5 ms per buffered stream so that many streams do not rewrite their rows on every
 * scrape (20,000 streams: every 10 s, about as often as the overview refreshes them).
 */
const flushIntervalMs = (buffered: number) => Math.max(3_000, 0.5 * buffered);

/**
 * What a scorer keeps per stream: the latest value and score and the sparkline points not yet
 * written to the stream row (flushed every few seconds), plus scratch fields the default
 * pipeline uses to de-duplicate a step's samples without a per-step map.
 */
export interface StreamState {
  id: number;
  tsMs: number;
  value: number;
  /**
   * The latest score, meaningful once `scored`. (Never null: a field that held null stores
   * every score as a fresh heap number, one allocation per scored sample.)
   */
  score: number;
  scored: boolean;
  /** changed since the last flush of stream rows */
  dirty: boolean;
  /** the stream's dense slot: its sparkline points are at `SparkRings` row `slot` */
  slot: number;
  /** sparkline points scored since the last flush (the ring keeps the newest SPARK_KEEP) */
  sparkN: number;
  /** the step (see detect-pipeline's `StepBucket.compact`) that last saw this stream, and its row there */
  stamp: number;
  row: number;
  /** the engine clock domain (-1 until known) */
  domain: number;
}

/**
 * The stream rows a scorer maintains (latest value, latest score, sparkline): buffered per
 * stream and written every few seconds with one UPDATE for all touched streams. Used by the
 * default pipeline and by each partition runner of the scale-out worker.
 */
export class StreamRows {
  private readonly slots = new DenseIds();
  /** per-stream state by dense slot */
  readonly states: StreamState[] = [];
  private readonly spark = new SparkRings();
  private dirty: StreamState[] = [];
  private lastFlushMs = 0;

  stateOf(id: number): StreamState {
    const slot = this.slots.slotOf(id);
    let st = this.states[slot];
    if (st === undefined) {
      this.states[slot] = st = { id, tsMs: -Infinity, value: Number.NaN, score: Number.NaN, scored: false, dirty: false, slot, sparkN: 0, stamp: 0, row: 0, domain: -1 };
      this.spark.reserve(slot);
    }
    return st;
  }

  markDirty(st: StreamState): void {
    if (st.dirty) return;
    st.dirty = true;
    this.dirty.push(st);
  }

  /** Deleted streams: nothing of theirs is written any more (samples that still come start afresh). */
  forget(ids: readonly number[]): void {
    const gone = new Set(ids);
    for (const id of ids) {
      const st = this.stateOf(id);
      st.domain = -1;
      st.dirty = false;
    }
    this.dirty = this.dirty.filter((st) => !gone.has(st.id));
  }

  /** A sample read: it becomes the latest value unless older than the one shown or too far ahead of `nowMs`. */
  noteSample(st: StreamState, tsMs: number, value: number, nowMs: number, stepMs: number): void {
    if (tsMs >= st.tsMs && tsMs <= nowMs + stepMs) {
      st.tsMs = tsMs;
      st.value = value;
      this.markDirty(st);
    }
  }

  /** A sample scored: latest score and a sparkline point (held-back samples may be the newest point). */
  noteScore(st: StreamState, tsMs: number, value: number, score: number): void {
    if (tsMs >= st.tsMs) {
      st.tsMs = tsMs;
      st.value = value;
    }
    st.score = score;
    st.scored = true;
    this.markDirty(st);
    this.spark.push(st, tsMs, value, Math.round(score * 10) / 10);
  }

  /** Writes the buffered latest values and sparkline points of the streams touched since the last flush. */
  async flush(): Promise<void> {
    this.lastFlushMs = Date.now();
    if (this.dirty.length === 0) return;
    const sparks = this.spark.takeAll(this.dirty);
    const rows: StreamRecent[] = this.dirty.map((st) => {
      st.dirty = false;
      return { id: st.id, tsMs: st.tsMs, value: st.value, score: st.scored ? st.score : null };
    });
    const flushed = this.dirty;
    this.dirty = [];
    // reads the sparklines from the rings before it first awaits (the next points overwrite them)
    try {
      await updateStreamRecent(rows, sparks);
    } catch (e) {
      // the latest values are written again at the next flush (their sparkline points are lost)
      for (const st of flushed) this.markDirty(st);
      throw e;
    }
  }

  /** Flushes when the flush interval (see `flushIntervalMs`) is up. */
  async flushIfDue(): Promise<void> {
    if (Date.now() - this.lastFlushMs >= flushIntervalMs(this.dirty.length)) await this.flush();
  }
}

/** Stream health as last written, per stream (in the UI's 0.01 steps): only rows that moved are rewritten. */
export class HealthRows {
  private written = new Map<number, { health: number; availability: number; gap: string | null }>();

  async write(engine: EnginePort): Promise<void> {
    const changed = [];
    const moved: { id: number; health: number; availability: number; gap: string | null }[] = [];
    for (const h of engine.health()) {
      // 0.01 steps: the UI shows health as a percentage
      const health = Math.round(h.health * 100);
      const availability = Math.round(h.availability * 100);
      const w = this.written.get(h.streamId);
      if (w !== undefined && w.health === health && w.availability === availability && w.gap === h.gapClass) continue;
      changed.push({ id: h.streamId, ...h });
      moved.push({ id: h.streamId, health, availability, gap: h.gapClass });
    }
    if (changed.length === 0) return;
    await upsertStreamHealth(changed);
    for (const m of moved) this.written.set(m.id, { health: m.health, availability: m.availability, gap: m.gap });
  }
}
