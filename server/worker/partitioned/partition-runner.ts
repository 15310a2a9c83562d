import type { JsMsg } from "@nats-io/jetstream";
import type { EngineEvent } from "@/lib/detectors/engine-port";
import type { EffectiveSettings } from "@/lib/config/settings";
import type { TStreamKind } from "@/lib/schemas/stream";
import { decodeSamples, type PartitionSamples } from "@/lib/scale/sample-message";
import { upsertAnomalies } from "../../repos/anomalies-repo";
import { labelledFeedbackAfter, newestFeedbackId } from "../../repos/feedback-repo";
import { readPartitionStart, savePartitionSnapshot } from "../../repos/partition-repo";
import { commitPartitionScores } from "../../repos/storage/partition-scores";
import { scoredAlready } from "../../repos/storage/scores";
import { ScoreMinuteFold } from "../../repos/storage/score-minute-fold";
import { allStreamKinds, readEndedStreams } from "../../repos/streams-repo";
import { partitionReplayReader, resetPartitionConsumer, type SampleLog } from "../../nats/sample-log";
import { anomalyRow } from "../pipeline/anomaly-row";
import { EndedGapFilter } from "../pipeline/ended-gaps";
import { LateSamples } from "../pipeline/late-samples";
import { copiedMessages } from "./log-copies";
import { createEngine, withSettings, type ConfiguredEngine } from "../../services/detection/engine-adapter";
import { compressState, packEngine, restoreSnapshot } from "../../services/detection/engine-snapshot";
import { RollupBuffer } from "../pipeline/rollup-buffer";
import { HealthRows, StreamRows } from "../pipeline/stream-rows";

const STEP_MS = 10_000;
/** Messages scored together in one transaction at most. */
const MAX_BATCH_MESSAGES = 512;

export interface PartitionStats {
  messages: number;
  /** messages at or below the cursor, folded into the detectors but not written again */
  replayed: number;
  scored: number;
  /**
   * samples behind the partition's clock (a step already scored), and of those, the ones scored
   * (see `LateSamples`): the partition's counts since its log began, restored from its cursor
   * row (where each run adds its own with its scores), so a move to another owner keeps them
   */
  late: number;
  lateScored: number;
  malformed: number;
  snapshots: number;
  lastSnapshotBytes: number;
  lastSnapshotMs: number;
  feedbackApplied: number;
}

/** The saved configuration to apply to a partition's detectors (from the worker's config-reload job). */
export interface PartitionSettings {
  global: EffectiveSettings;
  streams: Map<number, EffectiveSettings>;
  /** each stream's saved kind */
  kinds?: ReadonlyMap<number, TStreamKind>;
}

interface ScoreRows {
  streamIds: number[];
  tsMs: number[];
  score: number[];
  confidence: number[];
  expected: number[];
  lower: number[];
  upper: number[];
}
const emptyRows = (): ScoreRows => ({ streamIds: [], tsMs: [], score: [], confidence: [], expected: [], lower: [], upper: [] });

/**
 * One partition of the sample log on the worker that owns it: its own detector engine (the
 * state of the partition's streams), restored from the partition's snapshot; the messages
 * from that snapshot to the partition cursor relearned (`replayToCursor`); a durable consumer
 * from the message after the cursor; scores written with the partition cursor in
 * one transaction, after which the messages they cover are acknowledged (AckPolicy.All); a
 * snapshot every `snapshotEveryMs` (OMEN_PARTITION_SNAPSHOT_SECONDS).
 *
 * Acknowledging on the score write, not the snapshot: a new owner replays from the snapshot
 * (the log keeps every message 24 h whatever is acknowledged), so acks carry no
 * recovery duty. What they do carry is the meaning of the consumer's unacknowledged count, which
 * back-pressure and /api/health read as "not scored yet"; tied to snapshots minutes apart, it
 * would hold minutes of scored messages and refuse ingest, or flag a stall, for work already done.
 *
 * Exactly once: messages at or below the cursor (scored before, by this or another worker)
 * only relearn the detectors; a message is scored only by the transaction that moves the cursor
 * past it, which also merges the run's 1-minute sample and score rollups (so they are exact);
 * redeliveries at or below what the engine has folded in are skipped.
 *
 * Besides scoring, the runner keeps its streams' rows (latest value, sparkline, health; written
 * by the worker's tick), applies saved configuration (`configure`) and feedback labels
 * (`applyFeedback`: each label once per partition, the newest one held is saved with the
 * snapshot), and snapshots on request (`snapshot(true)`).
 */
export class PartitionRunner {
  private engine!: ConfiguredEngine;
  /** the worker's settings last installed in the engine (see `applySettings`) */
  private settingsApplied: PartitionSettings | null = null;
  /** last message folded into the engine */
  private applied = 0;
  /** last message whose scores are stored */
  private cursor = 0;
  private snapshotSeq = 0;
  private iter: { stop(): void } | null = null;
  private loop: Promise<void> = Promise.resolve();
  private stopping = false;
  private busy = false;
  /** the consume loop ended on an error: the partition must be given back and restarted */
  failed = false;
  private lastSnapshotAt = Date.now();
  private kinds = new Map<number, TStreamKind>();
  /** newest feedback label folded into the engine */
  private feedbackId = 0;
  /** newest rollback carried out on the engine (see applyRollback) */
  private rollbackId = 0;
  /** the snapshot being copied out of the engine, which must not change meanwhile */
  private packing: Promise<unknown> | null = null;
  /** snapshots, feedback and stream-row writes, one at a time */
  private side: Promise<unknown> = Promise.resolve();
  private readonly rows = new StreamRows();
  private readonly health = new HealthRows();
  private readonly endedGaps = new EndedGapFilter();
  /** the run's late samples (scratch, reused every run) */
  private readonly late = new LateSamples();
  readonly stats: PartitionStats = { messages: 0, replayed: 0, scored: 0, late: 0, lateScored: 0, malformed: 0, snapshots: 0, lastSnapshotBytes: 0, lastSnapshotMs: 0, feedbackApplied: 0 };

  constructor(
    private readonly log: SampleLog,
    readonly partition: number,
    private readonly owner: string,
    private readonly note: (msg: string) => void,
    private readonly snapshotEveryMs: number,
    /** the worker's settings in force now, a new object on every reload (null: none loaded yet) */
    private readonly settings: () => PartitionSettings | null = () => null,
  ) {}

  async start(): Promise<void> {
    const start = await readPartitionStart(this.log.names.stream, this.partition);
    this.engine = withSettings(start.snapshot ? await restoreSnapshot(start.snapshot.state) : createEngine());
    this.applySettings();
    // a fresh engine knows no stream, so no earlier label applies to it
    this.feedbackId = start.snapshot ? start.snapshot.feedbackId : await newestFeedbackId();
    this.rollbackId = start.snapshot?.rollbackId ?? 0;
    this.applied = this.snapshotSeq = start.snapshot?.msgSeq ?? 0;
    this.cursor = start.cursor;
    this.stats.late = start.late.samples;
    this.stats.lateScored = start.late.scored;
    this.note(`partition ${this.partition}: from snapshot at message ${this.applied}, scored up to ${this.cursor}`);
    this.loop = (async () => {
      // relearn what was scored after the snapshot first; the durable consumer starts after it
      if (this.cursor > this.applied) await this.replayToCursor();
      if (this.stopping) return;
      const consumer = await resetPartitionConsumer(this.log, this.partition, this.applied);
      const iter = await consumer.consume({ max_messages: 1024 });
      this.iter = iter;
      if (this.stopping) iter.stop();
      let batch: JsMsg[] = [];
      for await (const m of iter) {
        batch.push(m);
        if (batch.length < MAX_BATCH_MESSAGES && iter.getPending() > 0) continue;
        this.busy = true;
        try {
          await this.process(batch);
          this.ackScored(batch);
          batch = [];
          if (Date.now() - this.lastSnapshotAt >= this.snapshotEveryMs) await this.snapshot();
        } finally {
          this.busy = false;
        }
        if (this.stopping) break;
      }
    })().catch((e: Error) => {
      // the worker gives the partition back; its next owner (maybe this worker) resumes from the snapshot
      this.failed = true;
      this.note(`partition ${this.partition} stopped on error: ${e.stack ?? e.message}`);
    });
  }

  /**
   * Folds the messages between the snapshot and the partition cursor (scored before, by this
   * or another owner) into the detectors, read with an ordered reader, not the durable
   * consumer: health and back-pressure read the consumer's backlog as "not scored yet", and a
   * replay of up to a snapshot interval of messages would otherwise count there (and in the
   * partition's stall wait) although its scores are stored. Ends at the cursor, or when the log
   * holds nothing more (messages past the cursor that a fetch brings are scored as usual).
   */
  private async replayToCursor(): Promise<void> {
    const reader = await partitionReplayReader(this.log, this.partition, this.applied);
    while (!this.stopping && this.applied < this.cursor) {
      const batch: JsMsg[] = [];
      for await (const m of await reader.fetch({ max_messages: MAX_BATCH_MESSAGES, expires: 2_000 })) {
        batch.push(m);
        // not waiting out the fetch for more than the log holds
        if (m.seq >= this.cursor || m.info.pending === 0) break;
      }
      if (!batch.length) break;
      this.busy = true;
      try {
        await this.process(batch);
      } finally {
        this.busy = false;
      }
    }
  }

  /** Score (or relearn) a run of messages, write their scores and move the cursor once. */
  private async process(msgs: JsMsg[]): Promise<void> {
    const rows = emptyRows();
    const events = new Map<string, EngineEvent>();
    // the run's samples, rolled up per stream and minute (merged into the stored minutes on commit)
    const rollup = new RollupBuffer(0);
    this.late.clear();
    let last = 0;
    const fresh: { seq: number; samples: PartitionSamples }[] = [];
    for (const m of msgs) {
      if (m.seq <= this.applied) continue; // a redelivery the engine has seen
      this.stats.messages++;
      const samples = decodeSamples(m.data);
      if (!samples) {
        this.stats.malformed++;
        this.note(`partition ${this.partition}: message ${m.seq} is not a sample message; skipped`);
      } else {
        const replay = m.seq <= this.cursor;
        if (replay) this.stats.replayed++;
        else fresh.push({ seq: m.seq, samples });
        await this.fold(samples, m.seq, replay ? null : rows, replay ? null : events);
      }
      this.applied = m.seq;
      if (m.seq > this.cursor) last = m.seq;
    }
    if (last === 0) return;
    // a copy of a message folded before adds nothing: neither to the rollup nor late scores
    const copies = this.late.n ? await this.copiesInRun(rows) : new Set<number>();
    for (const f of fresh) {
      if (copies.has(f.seq)) continue;
      rollup.add({ rows: f.samples.streamIds.length, lastSeq: f.seq, seq: new Float64Array(f.samples.streamIds.length).fill(f.seq), ...f.samples });
    }
    // counted as late (what arrived behind the clock), scored only when not a copy
    const late = { samples: this.late.n, scored: 0 };
    if (copies.size) this.late.retain((seq) => !copies.has(seq));
    // scored with the run: written by the transaction that moves the cursor past their messages, so once
    if (this.late.n) late.scored = this.scoreLate(rows);
    const scores = { ...rows };
    const rollups = { samples: rollup.flushAll().rows, scores: ScoreMinuteFold.minutesOf(scores, Date.now()) };
    let failures = 0;
    for (;;) {
      try {
        const ok = await commitPartitionScores(this.log.names.stream, this.partition, this.owner, last, scores, rollups, late);
        if (ok) {
          this.stats.scored += rows.tsMs.length;
          this.stats.late += late.samples;
          this.stats.lateScored += late.scored;
        } else this.note(`partition ${this.partition}: messages up to ${last} were scored by another owner; not written again`);
        this.cursor = Math.max(this.cursor, last);
        break;
      } catch (e) {
        if (this.stopping) throw e;
        this.note(`partition ${this.partition}: score write failed (${failures++ === 0 ? (e as Error).stack : (e as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
    // gap events of streams that ended (a staleness marker) are not anomalies
    if (events.size) await this.endedGaps.apply(events, (id) => this.rows.stateOf(id).tsMs, (ids) => this.retrying("ended-stream check", () => readEndedStreams(ids)));
    if (events.size) await upsertAnomalies([...events.values()].map(anomalyRow)).catch((e: Error) => this.note(`anomaly write failed: ${e.message}`));
  }

  /**
   * Acknowledges a processed run: every message of it is at or below the cursor now (scored by
   * this run, or before, by this or another owner). One ack of the newest covers the rest.
   */
  private ackScored(msgs: readonly JsMsg[]): void {
    let newest: JsMsg | null = null;
    for (const m of msgs) if (m.seq <= this.cursor && (!newest || m.seq > newest.seq)) newest = m;
    newest?.ack();
  }

  /** Retries a read until it succeeds (a loaded or restarting database), unless stopping. */
  private async retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (this.stopping) throw e;
        this.note(`partition ${this.partition}: ${what} failed (${(e as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  /**
   * Steps the engine through message `seq`'s samples in time order (last value per stream and
   * step wins). Samples of a step the engine has scored already are late: when scoring (`out`),
   * they are kept for `scoreLate`; a replay only relearns, and late samples teach the live
   * models nothing, so it skips them.
   */
  private async fold(s: { streamIds: Int32Array; tsMs: Float64Array; values: Float64Array }, seq: number, out: ScoreRows | null, events: Map<string, EngineEvent> | null): Promise<void> {
    const order = Array.from(s.tsMs.keys()).sort((a, b) => s.tsMs[a]! - s.tsMs[b]! || a - b);
    let unknown = false;
    for (let i = 0; i < s.streamIds.length; i++) if (!this.engine.hasStream(s.streamIds[i]!) && !this.kinds.has(s.streamIds[i]!)) unknown = true;
    if (unknown) for (const r of await this.retrying("reading stream kinds", allStreamKinds)) this.kinds.set(r.id, r.kind);
    // no await from here on: the engine changes only while no snapshot is being copied out of it
    await this.engineFree();
    this.applySettings();
    for (let i = 0; i < s.streamIds.length; i++) {
      const id = s.streamIds[i]!;
      if (!this.engine.hasStream(id)) this.engine.addStream(id, this.kinds.get(id) ?? "gauge", 0);
    }
    if (out) {
      const now = Date.now();
      for (let i = 0; i < s.streamIds.length; i++) this.rows.noteSample(this.rows.stateOf(s.streamIds[i]!), s.tsMs[i]!, s.values[i]!, now, STEP_MS);
    }
    let k = 0;
    while (k < order.length) {
      const bucket = Math.floor(s.tsMs[order[k]!]! / STEP_MS) * STEP_MS;
      const from = k;
      const latest = new Map<number, number>();
      for (; k < order.length && Math.floor(s.tsMs[order[k]!]! / STEP_MS) * STEP_MS === bucket; k++) latest.set(s.streamIds[order[k]!]!, order[k]!);
      if (bucket <= this.engine.lastStepMs(0)) {
        if (!out) continue;
        for (let j = from; j < k; j++) this.late.put(0, s.streamIds[order[j]!]!, s.tsMs[order[j]!]!, s.values[order[j]!]!, seq);
        continue;
      }
      const idx = [...latest.values()];
      const { scores, events: ev } = this.engine.step(
        bucket,
        idx.map((i) => s.streamIds[i]!),
        Float64Array.from(idx, (i) => s.values[i]!),
        Float64Array.from(idx, (i) => s.tsMs[i]!),
        0,
      );
      if (!out || !events) continue;
      for (let j = 0; j < scores.n; j++) {
        this.rows.noteScore(this.rows.stateOf(scores.streamIds[j]!), scores.tsMs[j]!, s.values[idx[scores.at[j]!]!]!, scores.score[j]!);
        out.streamIds.push(scores.streamIds[j]!);
        out.tsMs.push(scores.tsMs[j]!);
        out.score.push(scores.score[j]!);
        out.confidence.push(scores.confidence[j]!);
        out.expected.push(scores.expected[j]!);
        out.lower.push(scores.lower[j]!);
        out.upper.push(scores.upper[j]!);
      }
      for (const e of ev) events.set(e.engineId, e);
    }
  }

  /**
   * Scores the run's late samples in time order on scratch copies of their streams' models
   * (`EngineAdapter.scoreLate`: the live models, latest values and sparklines are not changed),
   * as the single worker does, and appends their rows to the run's. Returns how many it scored.
   */
  private scoreLate(out: ScoreRows): number {
    let n = 0;
    for (const g of this.late.byDomain()) {
      this.engine.scoreLate(g.domain, STEP_MS, g.ids, g.values, g.groupEnds, (k, score, confidence, expected, lower, upper) => {
        out.streamIds.push(g.ids[k]!);
        out.tsMs.push(g.tsMs[k]!);
        out.score.push(score);
        out.confidence.push(confidence);
        out.expected.push(expected);
        out.lower.push(lower);
        out.upper.push(upper);
        n++;
      });
    }
    return n;
  }

  /** The run's messages that are copies of messages folded before (see `copiedMessages`), by their late samples. */
  private async copiesInRun(rows: ScoreRows): Promise<Set<number>> {
    const ids = new Int32Array(this.late.n);
    const tsMs = new Float64Array(this.late.n);
    for (let k = 0; k < this.late.n; k++) ({ id: ids[k], tsMs: tsMs[k] } = this.late.at(k));
    const { scored } = await this.retrying("score check", () => scoredAlready(ids, tsMs));
    return copiedMessages(this.late, scored, rows);
  }

  /** The periodic snapshot while no messages arrive (between two runs of the consume loop). */
  async snapshotIfDue(): Promise<void> {
    if (!this.busy && !this.stopping && Date.now() - this.lastSnapshotAt >= this.snapshotEveryMs) await this.snapshot();
  }

  /**
   * Saves the engine's state at the last folded message (with the newest label it holds).
   * Only when every folded message's scores are stored: a snapshot past the cursor would let a
   * new owner skip messages that were never scored. `force` (a manual snapshot, new feedback)
   * saves even when no message came since the last one.
   */
  snapshot(force = false): Promise<void> {
    const run = this.side.then(() => this.saveSnapshot(force));
    this.side = run.catch(() => undefined);
    return run;
  }

  private async saveSnapshot(force: boolean): Promise<void> {
    this.lastSnapshotAt = Date.now();
    if (this.applied > this.cursor || this.applied === 0) return;
    if (!force && this.applied <= this.snapshotSeq) return;
    const seq = this.applied;
    const { feedbackId, rollbackId } = this;
    const t0 = performance.now();
    // the engine is copied in slices; scoring waits for the copy (see `engineFree`), not for gzip
    const packing = packEngine(this.engine);
    this.packing = packing;
    let raw: Uint8Array;
    try {
      raw = await packing;
    } finally {
      this.packing = null;
    }
    const state = await compressState(raw);
    await savePartitionSnapshot(this.log.names.stream, this.partition, seq, state, feedbackId, rollbackId);
    this.stats.snapshots++;
    this.stats.lastSnapshotBytes = state.length;
    this.stats.lastSnapshotMs = performance.now() - t0;
    this.snapshotSeq = Math.max(this.snapshotSeq, seq);
  }

  /**
   * Folds the labels given since the newest one this partition holds into its detectors (a
   * label's streams live in one partition; the others ignore it), then snapshots so that the
   * partition's next owner does not apply them again.
   */
  applyFeedback(): Promise<void> {
    const run = this.side.then(async () => {
      const before = this.feedbackId;
      let n = 0;
      for (;;) {
        const items = await labelledFeedbackAfter(this.feedbackId);
        if (!items.length) break;
        for (const f of items) {
          for (const id of f.streamIds) {
            if (!this.engine.hasStream(id)) continue;
            this.engine.applyFeedback(id, f.label, f.startMs, f.endMs);
            n++;
          }
          this.feedbackId = f.id;
        }
      }
      this.stats.feedbackApplied += n;
      return { n, advanced: this.feedbackId > before };
    });
    this.side = run.catch(() => undefined);
    return run.then(async ({ n, advanced }) => {
      if (n > 0) this.note(`partition ${this.partition}: applied feedback to ${n} stream(s)`);
      // saved even when no label concerned this partition: the labels count as applied once every partition holds them
      if (advanced) await this.snapshot(true);
    });
  }

  /** The newest rollback this partition's detectors hold (0: none). */
  get rollbackHeld(): number {
    return this.rollbackId;
  }

  /**
   * Rollback `id` (Settings → Models, scale-out): replaces the partition's detectors with
   * `state` (its gzipped state in the restored snapshot; null: the partition had learned
   * nothing then, so its detectors start afresh), then snapshots, so that the partition's next
   * owner holds the rollback too. Scoring goes on from the cursor: the detectors' memory goes
   * back, the data does not (as with the single worker). Once per rollback id.
   */
  applyRollback(id: number, state: Uint8Array | null): Promise<boolean> {
    const run = this.side.then(async () => {
      if (id <= this.rollbackId) return false;
      const restored = state ? await restoreSnapshot(state) : createEngine();
      // swapped between two steps of the consume loop (engine calls there are synchronous)
      this.engine.replaceState(restored);
      this.rollbackId = id;
      return true;
    });
    this.side = run.catch(() => undefined);
    return run.then(async (done) => {
      if (!done) return false;
      this.note(`partition ${this.partition}: detectors rolled back (rollback ${id})`);
      await this.snapshot(true);
      return true;
    });
  }

  /** Resolves when no snapshot is being copied out of the engine (then the caller may change it before awaiting again). */
  private async engineFree(): Promise<void> {
    while (this.packing) await this.packing.catch(() => undefined);
  }

  /** Deleted streams (the worker's config-reload job): their detector state and stream rows go. */
  forgetStreams(ids: readonly number[]): void {
    if (this.packing) {
      void this.engineFree().then(() => this.forgetStreams(ids));
      return;
    }
    this.engine?.forgetStreams(ids);
    this.rows.forget(ids);
  }

  /**
   * New saved configuration (the worker's config-reload job): installed now, or, while a
   * snapshot is being copied out of the engine, before the next step.
   */
  configure(): void {
    if (this.engine && !this.packing) this.applySettings();
  }

  /**
   * Installs the worker's newest settings in the engine, once per settings object. Pulled
   * before every run of steps, not only pushed by `configure`: a reload that lands while this
   * runner is starting (before its worker lists it among its runners) would otherwise leave it
   * on the settings it read at start until the configuration changed again.
   */
  private applySettings(): void {
    const s = this.settings();
    if (!s || s === this.settingsApplied) return;
    this.engine.setSettings(s.global, s.streams, s.kinds);
    this.settingsApplied = s;
  }

  /** Writes the stream rows (latest values, sparklines) when due and the streams' health. */
  writeRows(): Promise<void> {
    const run = this.side.then(async () => {
      await this.rows.flushIfDue();
      await this.health.write(this.engine);
    });
    this.side = run.catch(() => undefined);
    return run;
  }

  /** The partition's detectors (predictions read their forecasts). */
  get detectors(): ConfiguredEngine {
    return this.engine;
  }

  /** Stops consuming and snapshots what it folded (its next owner replays less). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.iter?.stop();
    await this.loop;
    await this.snapshot();
    await this.rows.flush().catch((e: Error) => this.note(`partition ${this.partition}: stream rows not written at stop (${e.message})`));
  }

  get position(): { applied: number; cursor: number; snapshot: number } {
    return { applied: this.applied, cursor: this.cursor, snapshot: this.snapshotSeq };
  }
}

