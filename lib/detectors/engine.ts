/**
 * DetectionEngine: the three-tier ensemble over many streams, stepped one timestamp at a time.
 *
 * Tier 1 (per stream, struct-of-arrays banks): robust z-score, Holt-Winters with detected
 * season, AR/RLS forecaster, quantile filter; counters are turned into per-second rates (a drop
 * is a reset: the rate is value/Δt). Tier 2 (across streams, `engine-tier2.ts`): Half-Space
 * Trees and a sliding-window Isolation Forest on a bounded feature vector. Tier 3: every raw
 * score → tail probability (`TailCalibrator`), per stream the two smallest p are combined (both
 * must be extreme: geometric mean) and a CUSUM on −log10 of the second smallest p catches
 * sustained moderate deviations; evidence −log10 p maps linearly to 0–100 (`evidenceScale` →
 * 100) times confidence (warm-up × stream health). Severity from the cut-offs, events from
 * consecutive anomalous steps (`engine-events.ts`). The modules share the per-stream score
 * layout of `engine-layout.ts`.
 *
 * Determinism: no clock, no Math.random; Tier 2 uses the seeded RNG. serialize()/restore()
 * (`engine-state.ts`) give an engine whose next outputs are identical.
 */
import { ArRlsBank } from "./ar-rls";
import { TailCalibrator } from "./calibration";
import { getObject, type ColumnForm } from "./codec";
import { COUNTER_MIN_DIFFS, counterStep, counterVerdict } from "./counter-kind";
import {
  breadthExplanation,
  nameCollective,
  pairExplanation,
  EV_GAP,
  EV_POINT,
  EventBook,
  gapExplanation,
  GAP_SUFFIX,
  MV_KEY,
  multivariateExplanation,
  newEvent,
  notePoint,
  pointExplanation,
  retypeExplanation,
  type OpenEvent,
} from "./engine-events";
import { ND, PRIOR_BETA, PRIOR_U } from "./engine-layout";
import { engineState, ENGINE_KIND, ENGINE_VERSION, openEngineState, readEngineState, saveBanks, type EngineBanks, type EngineState } from "./engine-state";
import type { BaseBank } from "./bank";
import { Tier2 } from "./engine-tier2";
import { GAP_CLASSES, GapTracker } from "./gaps";
import { HoltWintersBank } from "./holt-winters";
import { parseEngineOptions, type EngineOptions, type EngineOptionsInput } from "./options";
import { QuantileFilterBank } from "./quantile-filter";
import { RobustZBank } from "./robust-z";
import { FlatlineBank } from "./flatline";
import { ShiftCusumBank } from "./shift-cusum";
import { CountCusumBank } from "./count-cusum";
import { SeasonBreakBank } from "./season-break";
import { VarianceShiftBank } from "./variance-shift";
import { ScoreLikelihoodBank, type ScoreLikelihoodParams } from "./score-likelihood";
import { ContextNoveltyBank, type ContextNoveltyParams } from "./context-novelty";
import { RecordBank } from "./record";
import { SoA } from "./soa";
import type { AnomalyEvent, AnomalyType, EventChange, GapClass, Severity, StreamKind } from "./types";

export { ZEngineOptions, type EngineOptions, type EngineOptionsInput } from "./options";
export { TIER1_DETECTORS } from "./engine-layout";

const KIND_CODE: Record<StreamKind, number> = { gauge: 0, counter: 1, event: 2 };
const KIND_NAME: StreamKind[] = ["gauge", "counter", "event"];
/**
 * Streams per block of `scoreStep`'s passes: a block's state stays in the L2 cache between its
 * passes (~0.5 MB at 512 streams: season, rings and calibrator bins are touched a line or two
 * per stream).
 */
const STEP_BLOCK = 512;
/** Holt-Winters' z a record needs on a stream with a learnt season. */
const RECORD_SEASON_Z = 4;
/** `bConfirm` values: the point confirms a waiting excursion; it does when its score is also at `confirmScore`. */
const CONFIRMS = 1;
const CONFIRMS_IF_ELEVATED = 2;

/** A stuck stretch's score (`FlatlineBank`: run / bar ≥ 1): 70, up to 90 at twice the bar. */
function stuckFloor(stuck: number): number {
  return 70 + 20 * Math.min(1, stuck - 1);
}
export interface StepResult {
  tsMs: number;
  /** Stream ids in engine slot order; every per-stream array below is aligned with it. */
  streamIds: readonly string[];
  score: Float64Array;
  confidence: Float64Array;
  expected: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
  isAnomaly: Uint8Array;
  /** 1 when the point is anomalous and belongs to an emitted (opened) event, or confirms a
   * waiting one and so opens it (`confirmEvidence`, `confirmScore`): isAnomaly after the minimum-duration rule —
   * what row-level consumers should flag. */
  inEvent: Uint8Array;
  severity: (Severity | null)[];
  /** Type of the stream's open anomaly (null when none). */
  type: (AnomalyType | null)[];
  gap: GapClass[];
  /** Multivariate (Tier 2) score 0–100 and its confidence. */
  multivariateScore: number;
  multivariateConfidence: number;
  /** Tier 2's breadth score 0–100: many streams moving unusually on one step (see `Tier2.finishBreadth`). */
  breadthScore: number;
  /** Two streams anomalous on one step, as joint evidence (see `pairScore`); 0 below three streams. */
  pairScore: number;
  /** max over streams, the weighted multivariate score and the breadth score */
  overallScore: number;
  changes: EventChange[];
}

export interface Feedback {
  label: "false_positive" | "true_positive";
  /** Optional: the event's start (for bookkeeping only). */
  atMs?: number;
}

export interface ForecastResult {
  tsMs: Float64Array;
  expected: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
}

type StreamCols =
  | "kind"
  | "lastRaw"
  | "lastRawT"
  | "hasRaw"
  | "sus"
  | "fb"
  | "nObs"
  | "nDiff"
  | "nPos"
  | "nBad"
  | "kindFixed"
  | "lastZ"
  | "lastSigned";

/** Whether `o` has an own enumerable key (without building the key list). */
function hasOwnKeys(o: object): boolean {
  for (const k in o) if (Object.hasOwn(o, k)) return true;
  return false;
}

/**
 * Largest input magnitude the detectors see. Omen stores any double (±Inf, ±1.8e308); past
 * ~1e150 the detectors' squares and products overflow, and one such point left a stream's band
 * at ±1e195 for good. Clamped to ±1e100, an absurd value scores as the extreme point it is
 * (100) and the state recovers exactly as after an ordinary spike. NaN stays "missing".
 */
export const INPUT_LIMIT = 1e100;

function clampInput(v: number): number {
  return v > INPUT_LIMIT ? INPUT_LIMIT : v < -INPUT_LIMIT ? -INPUT_LIMIT : v;
}

/** The score-likelihood parameters an engine's options imply (shared with `scoreTable`). */
export function likelihoodParams(o: EngineOptions): Partial<ScoreLikelihoodParams> {
  return {
    shortWindow: o.likelihoodShortWindow,
    longWindow: o.likelihoodLongWindow,
    minStd: o.likelihoodMinStd,
    // an excursion starts where the score reaches the low severity
    onsetEvidence: o.onset ? (o.severity.low * o.likelihoodScale) / 100 : 0,
    onsetHold: o.onsetHold,
    onsetDecay: o.onsetDecay,
    onsetCooldown: o.onsetCooldown,
    onsetEscalate: o.onsetEscalate,
    pointPriorStd: o.likelihoodPoint > 0 ? 0.2 : 0,
    pointWeight: o.likelihoodPoint,
    secondMinStd: o.noveltyMinStd,
  };
}

/** The context-novelty parameters an engine's options imply. */
export function noveltyParams(o: EngineOptions): Partial<ContextNoveltyParams> {
  return { bins: o.noveltyBins, order: o.noveltyOrder, warmup: o.noveltyWarmup };
}

export class DetectionEngine {
  static readonly KIND = ENGINE_KIND;
  static readonly VERSION = ENGINE_VERSION;
  readonly options: EngineOptions;

  private ids: string[] = [];
  private index = new Map<string, number>();
  private readonly st = new SoA<StreamCols>({
    kind: 1,
    lastRaw: 1,
    lastRawT: 1,
    hasRaw: 1,
    sus: 1,
    fb: 1,
    nObs: 1,
    nDiff: 1,
    nPos: 1,
    nBad: 1,
    kindFixed: 1,
    lastZ: ND,
    lastSigned: 1,
  });
  private rz = new RobustZBank();
  private hw: HoltWintersBank;
  private ar = new ArRlsBank();
  private qf = new QuantileFilterBank();
  private cu = new ShiftCusumBank();
  private cc: CountCusumBank;
  private fl = new FlatlineBank();
  private vs = new VarianceShiftBank();
  private sb = new SeasonBreakBank();
  private lk: ScoreLikelihoodBank;
  private nv: ContextNoveltyBank;
  private rec: RecordBank;
  private gaps = new GapTracker();
  private cal = new TailCalibrator();
  /** calibrator slots 0..1 are Tier 2 (HST, IF); stream i uses 2 + i·ND + k */
  private tier2: Tier2;
  private readonly book: EventBook;
  /** Bumped whenever a stream's slot may change (removal): callers caching slots re-read them. */
  private layout = 0;
  private lastTs = -Infinity;
  private steps = 0;

  // reusable outputs
  private out!: StepResult;
  private present = new Uint8Array(4);
  private vals = new Float64Array(4);
  /** whether `options.sensitivity` has any entry (read once per step) */
  private anySensitivity = false;
  // per-block scratch of `scoreStep`'s passes, index = slot − block start
  private block = STEP_BLOCK;
  private bX = new Float64Array(STEP_BLOCK);
  private bGap = new Uint8Array(STEP_BLOCK);
  private bHwExp = new Float64Array(STEP_BLOCK);
  /** Holt-Winters' seasonal term at the step (read in `passInputs`, used again in `passShapes`) */
  private bSeason = new Float64Array(STEP_BLOCK);
  private bShift = new Float64Array(STEP_BLOCK);
  private bStuck = new Float64Array(STEP_BLOCK);
  private bBurst = new Float64Array(STEP_BLOCK);
  private bRecord = new Float64Array(STEP_BLOCK);
  /** The record ratio of the point being tracked (0 = none), for its event's explanation. */
  private recNow = 0;
  /** The season-break ratio of the point being tracked (0 = none), for its event's type and explanation. */
  private breakNow = 0;
  private bJitter = new Float64Array(STEP_BLOCK);
  private bBreak = new Float64Array(STEP_BLOCK);
  private bExt = new Float64Array(STEP_BLOCK);
  /** Whether the point itself is still unusual (`confirmation`): it can confirm a pending excursion. */
  private bConfirm = new Uint8Array(STEP_BLOCK);
  private bP = new Float64Array(STEP_BLOCK * ND);
  /** a present point's score before its final floors (see `passScores`) */
  private bS = new Float64Array(STEP_BLOCK);

  constructor(options?: EngineOptionsInput) {
    this.options = parseEngineOptions(options ?? {});
    this.hw = new HoltWintersBank({ adaptWithinMs: this.options.adaptWithinMs });
    this.cc = new CountCusumBank({ adoptAfterMs: this.options.adaptWithinMs });
    this.lk = new ScoreLikelihoodBank(likelihoodParams(this.options));
    this.nv = new ContextNoveltyBank(noveltyParams(this.options));
    this.rec = new RecordBank({ minRatio: this.options.recordRatio, minHits: this.options.recurrenceHits, quietHalfLife: this.options.recordQuietHalfLife });
    this.tier2 = new Tier2(this.options);
    this.book = new EventBook(this.options, this);
    this.cal.add(PRIOR_U, PRIOR_BETA);
    this.cal.add(PRIOR_U, PRIOR_BETA);
    this.allocOutputs();
  }

  // ---------------------------------------------------------------- streams

  get streamIds(): readonly string[] {
    return this.ids;
  }

  hasStream(id: string): boolean {
    return this.index.has(id);
  }

  streamIndex(id: string): number {
    return this.index.get(id) ?? -1;
  }

  /**
   * Changes whenever a stream's slot (`streamIndex`) may have changed: a caller that caches
   * slots for `stepSlots` re-reads them when it differs from what it cached them under.
   */
  get layoutVersion(): number {
    return this.layout;
  }

  /**
   * Makes room for `count` more streams in every per-stream array at once: adding a batch of
   * streams then grows nothing stream by stream (each bank would otherwise double its arrays
   * a dozen times on the way to 20,000 streams, copying them each time). State is unchanged.
   */
  reserveStreams(count: number): void {
    if (!(count > 0)) return;
    const n = this.ids.length + Math.floor(count);
    this.st.reserve(n);
    this.book.reserve(n);
    for (const b of Object.values(this.banks())) b.reserve(n);
    this.cal.reserve(2 + n * ND);
  }

  addStream(id: string, kind: StreamKind = "gauge"): void {
    if (this.index.has(id)) throw new Error(`stream "${id}" already exists`);
    if (!(kind in KIND_CODE)) throw new Error(`unknown stream kind "${String(kind)}"`);
    const i = this.ids.length;
    this.ids.push(id);
    this.index.set(id, i);
    this.st.ensure(i + 1);
    this.st.clear(i);
    this.book.added(i, id);
    this.rz.add();
    this.hw.add();
    this.ar.add();
    this.qf.add();
    this.cu.add();
    this.cc.add();
    this.fl.add();
    this.vs.add();
    this.sb.add();
    this.lk.add();
    this.nv.add();
    this.rec.add();
    this.gaps.add();
    for (let k = 0; k < ND; k++) this.cal.add(PRIOR_U, PRIOR_BETA);
    this.initStream(i, kind);
    this.outputsStale = true; // re-allocated once at the next step, not per added stream (O(n²) for 20k streams)
    this.resetTier2();
  }

  private initStream(i: number, kind: StreamKind): void {
    const c = this.st.cols;
    this.st.clear(i);
    c.kind[i] = KIND_CODE[kind];
    c.fb[i] = 1;
    c.kindFixed[i] = kind === "gauge" && this.options.autoKind ? 0 : 1;
  }

  removeStream(id: string): void {
    const i = this.index.get(id);
    if (i === undefined) return;
    const last = this.ids.length - 1;
    const lastId = this.ids[last]!;
    this.st.move(last, i);
    this.rz.remove(i);
    this.hw.remove(i);
    this.ar.remove(i);
    this.qf.remove(i);
    this.cu.remove(i);
    this.cc.remove(i);
    this.fl.remove(i);
    this.vs.remove(i);
    this.sb.remove(i);
    this.lk.remove(i);
    this.nv.remove(i);
    this.rec.remove(i);
    this.gaps.remove(i);
    for (let k = 0; k < ND; k++) this.cal.move(2 + last * ND + k, 2 + i * ND + k);
    this.cal.truncate(2 + last * ND);
    this.ids[i] = lastId;
    this.ids.pop();
    this.index.delete(id);
    if (lastId !== id) this.index.set(lastId, i);
    this.book.removed(id, i, last);
    this.layout++;
    this.outputsStale = true;
    this.resetTier2();
  }

  /** Changes a stream's kind (its learnt state restarts). */
  setKind(id: string, kind: StreamKind): void {
    const i = this.index.get(id);
    if (i === undefined) throw new Error(`unknown stream "${id}"`);
    this.resetStream(i);
    this.initStream(i, kind);
    this.st.cols.kindFixed[i] = 1;
  }

  /**
   * Moves stream `id` from `src` (an engine with the same options) into this one with all it
   * learnt: its models, calibration, feedback and last excursions; `src` drops it. A history
   * clock domain that has caught up with the live clock hands its streams to the live engine
   * this way. Refused while the stream has an event open or pending in `src` (the event's
   * stored anomaly belongs to that engine). This engine's multivariate models restart, as they
   * do for any added stream.
   */
  adoptStream(src: DetectionEngine, id: string): void {
    const j = src.index.get(id);
    if (j === undefined) throw new Error(`unknown stream "${id}"`);
    if (!src.canHandOver(id)) throw new Error(`stream "${id}" has an open event, or a collective one is open`);
    this.addStream(id, KIND_NAME[src.st.cols.kind[j]!]);
    const i = this.index.get(id)!;
    this.st.copyFrom(src.st, j, i);
    const mine = this.banks();
    const theirs = src.banks();
    for (const k of Object.keys(mine) as (keyof EngineBanks)[]) (mine[k] as BaseBank<string, object, string>).copySlot(theirs[k] as never, j, i);
    for (let k = 0; k < ND; k++) this.cal.copySlot(src.cal, 2 + j * ND + k, 2 + i * ND + k);
    this.book.adoptPeaks(src.book, id);
    src.removeStream(id);
  }

  /**
   * Whether `adoptStream` would take stream `id` from this engine now: it has no event of its
   * own open or pending, and no collective event is (its streams must stay while it runs).
   */
  canHandOver(id: string): boolean {
    return this.index.has(id) && !this.book.tracks(id) && !this.book.collectiveOpen;
  }

  streamKind(id: string): StreamKind | undefined {
    const i = this.index.get(id);
    return i === undefined ? undefined : KIND_NAME[this.st.cols.kind[i]!];
  }

  /** A counter's last reading, against which its next rate is taken; null for other kinds and before one. */
  lastCounterReading(id: string): { value: number; tMs: number } | null {
    const i = this.index.get(id);
    const c = this.st.cols;
    return i === undefined || c.kind[i] !== KIND_CODE.counter || c.hasRaw[i] !== 1 ? null : { value: c.lastRaw[i]!, tMs: c.lastRawT[i]! };
  }

  private resetStream(i: number): void {
    this.rz.reset(i);
    this.hw.reset(i);
    this.ar.reset(i);
    this.qf.reset(i);
    this.cu.reset(i);
    this.cc.reset(i);
    this.fl.reset(i);
    this.vs.reset(i);
    this.sb.reset(i);
    this.lk.reset(i);
    this.nv.reset(i);
    this.rec.reset(i);
    for (let k = 0; k < ND; k++) this.cal.reset(2 + i * ND + k, PRIOR_U, PRIOR_BETA);
  }

  private allocOutputs(): void {
    this.outputsStale = false;
    const n = this.ids.length;
    this.present = new Uint8Array(n);
    this.vals = new Float64Array(n);
    this.out = {
      tsMs: NaN,
      streamIds: this.ids,
      score: new Float64Array(n),
      confidence: new Float64Array(n),
      expected: new Float64Array(n),
      lower: new Float64Array(n),
      upper: new Float64Array(n),
      isAnomaly: new Uint8Array(n),
      inEvent: new Uint8Array(n),
      severity: new Array<Severity | null>(n).fill(null),
      type: new Array<AnomalyType | null>(n).fill(null),
      gap: new Array<GapClass>(n).fill("none"),
      multivariateScore: 0,
      breadthScore: 0,
      pairScore: 0,
      multivariateConfidence: 0,
      overallScore: 0,
      changes: [],
    };
  }

  /** Output arrays no longer match the stream count (streams were added or removed). */
  private outputsStale = false;

  private resetTier2(): void {
    this.tier2.reset(this.cal);
  }

  // ---------------------------------------------------------------- scoring

  /**
   * Streams per block of a step (default 512; see `scoreStep`). Results never depend on it
   * (1 = one stream at a time, as one fused loop): tests compare block layouts with it.
   */
  setStepBlock(size: number): void {
    if (!Number.isInteger(size) || size < 1) throw new Error("setStepBlock: size must be a positive integer");
    this.block = size;
    this.bX = new Float64Array(size);
    this.bGap = new Uint8Array(size);
    this.bHwExp = new Float64Array(size);
    this.bSeason = new Float64Array(size);
    this.bShift = new Float64Array(size);
    this.bStuck = new Float64Array(size);
    this.bBurst = new Float64Array(size);
    this.bRecord = new Float64Array(size);
    this.bJitter = new Float64Array(size);
    this.bBreak = new Float64Array(size);
    this.bExt = new Float64Array(size);
    this.bConfirm = new Uint8Array(size);
    this.bP = new Float64Array(size * ND);
    this.bS = new Float64Array(size);
  }

  private severityOf(score: number): Severity | null {
    const s = this.options.severity;
    if (score > s.high) return "high";
    if (score > s.medium) return "medium";
    if (score > s.low) return "low";
    return null;
  }

  /**
   * Scores one timestamp. `values[k]` belongs to `ids[k]`; NaN = missing; streams not listed are
   * missing. Outputs are written into reused arrays (valid until the next call).
   */
  step(tsMs: number, ids: readonly string[], values: Float64Array): StepResult {
    this.checkStep(tsMs);
    if (values.length < ids.length) throw new Error("step: values shorter than ids");
    // callers usually list the streams in slot order: an id found at its own slot needs no
    // string-keyed Map probe (the probe would give that same slot)
    const slotIds = this.ids;
    if (this.options.autoAddStreams) {
      for (let k = 0; k < ids.length; k++) if (!(k < slotIds.length && ids[k] === slotIds[k]) && !this.index.has(ids[k]!)) this.addStream(ids[k]!, "gauge");
    }
    this.beginStep();
    const present = this.present;
    const vals = this.vals;
    const n = slotIds.length;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      const i = k < n && id === slotIds[k] ? k : this.index.get(id);
      if (i === undefined) continue;
      const v = clampInput(values[k]!);
      vals[i] = v;
      present[i] = v === v ? 1 : 0;
    }
    return this.scoreStep(tsMs);
  }

  /**
   * `step` by slot: `values[k]` belongs to the stream at slot `slots[k]` (see `streamIndex`),
   * for k < `count`. Same results as `step` with those streams' ids, without a string lookup per
   * point; a caller caching slots must re-read them when `layoutVersion` changes.
   */
  stepSlots(tsMs: number, slots: Int32Array, values: Float64Array, count: number): StepResult {
    this.checkStep(tsMs);
    if (values.length < count || slots.length < count) throw new Error("stepSlots: slots or values shorter than count");
    const n = this.ids.length;
    for (let k = 0; k < count; k++) {
      const i = slots[k]!;
      if (!(i >= 0 && i < n)) throw new Error(`stepSlots: no stream at slot ${i}`);
    }
    this.beginStep();
    const present = this.present;
    const vals = this.vals;
    for (let k = 0; k < count; k++) {
      const i = slots[k]!;
      const v = clampInput(values[k]!);
      vals[i] = v;
      present[i] = v === v ? 1 : 0;
    }
    return this.scoreStep(tsMs);
  }

  private checkStep(tsMs: number): void {
    if (!Number.isFinite(tsMs)) throw new Error("step: timestamp must be finite");
    if (tsMs < this.lastTs) throw new Error(`step: timestamps must not go backwards (${tsMs} < ${this.lastTs})`);
  }

  /** Every stream missing until its value is filled in. */
  private beginStep(): void {
    if (this.outputsStale) this.allocOutputs();
    this.present.fill(0);
    this.vals.fill(NaN);
  }

  /**
   * Scores the step whose values `step`/`stepSlots` placed in `vals`/`present`.
   *
   * Cache blocking: with thousands of streams the detectors' state (Holt-Winters' season and
   * rings alone are ~7 kB a stream) is far larger than the caches, and one loop running every
   * detector per stream touches ~100 arrays at once — more than the hardware prefetchers follow,
   * so the first touch of most columns waited on memory (20,000 streams scored ~1.7× slower
   * per point than 500). Streams are therefore scored in blocks of `STEP_BLOCK`, each block in
   * passes of a few detectors each (the later passes find the block's state in cache). Each
   * stream still sees the same operations in the same order, and what crosses streams (events,
   * Tier-2 sums, the maximum) still runs in slot order: results are bit-identical to one loop.
   */
  private scoreStep(tsMs: number): StepResult {
    const n = this.ids.length;
    const o = this.options;
    const out = this.out;
    out.tsMs = tsMs;
    out.changes = this.book.changes = [];
    // a step's sensitivity lookups are string-keyed probes: skipped when none is configured
    this.anySensitivity = hasOwnKeys(o.sensitivity);
    const tier2 = o.tier2.enabled && n > 0;
    if (tier2) this.tier2.begin(n);
    let maxScore = 0;
    const block = this.block;
    for (let lo = 0; lo < n; lo += block) {
      const hi = lo + block < n ? lo + block : n;
      this.passInputs(lo, hi, tsMs);
      this.passShapes(lo, hi, tsMs);
      this.passTier1(lo, hi, tsMs);
      this.passCalibrate(lo, hi);
      const m = this.passScores(lo, hi, tsMs);
      if (m > maxScore) maxScore = m;
      if (tier2) {
        this.tier2.accumulate(lo, hi, this.present, this.st.cols.lastSigned, this.st.cols.lastZ, this.hw, this.gaps);
        this.tier2.countBreadth(lo, hi, this.bX, this.bP);
      }
    }
    // Tier 2
    let mv = 0;
    let mvConf = 0;
    let breadth = 0;
    let pair = 0;
    if (tier2) {
      const t2 = this.tier2;
      breadth = t2.finishBreadth(n, tsMs);
      mv = t2.finish(n, this.cal);
      pair = this.pairScore(n);
      // one collective event for all three, scored by the largest: the breadth score names the
      // streams that moved (it describes the event whenever it alarms itself: many streams, not
      // two), the others the streams scoring highest; breadth and pair come from calibrated
      // stream scores and need no warm-up of the multivariate models
      const by = breadth > mv && (breadth >= pair || breadth > o.severity.low) ? "breadth" : pair > mv ? "pair" : "mv";
      const ev = Math.max(breadth, mv, pair);
      this.trackMvEvent(tsMs, ev, t2.ready || by !== "mv" ? this.severityOf(ev) : null, by);
      mvConf = t2.confidence;
      mv *= mvConf;
    }
    out.multivariateScore = mv;
    out.multivariateConfidence = mvConf;
    out.breadthScore = breadth;
    out.pairScore = pair;
    const mvw = mv * o.tier2.weight;
    out.overallScore = Math.max(mvw, breadth, maxScore);
    this.lastTs = tsMs;
    this.steps++;
    return out;
  }

  /**
   * Block pass 1: availability and gap class, counters → per-second rates (causal auto-kind),
   * and the expected value and band before anything learns (Holt-Winters' expectation and
   * seasonal term are pure reads, and nothing before its update changes Holt-Winters). Leaves
   * the (rate-converted) value in `bX`, NaN when missing.
   */
  private passInputs(lo: number, hi: number, tsMs: number): void {
    const o = this.options;
    const c = this.st.cols;
    const out = this.out;
    const present = this.present;
    const vals = this.vals;
    const bX = this.bX;
    const bGap = this.bGap;
    const bHwExp = this.bHwExp;
    const bSeason = this.bSeason;
    for (let i = lo; i < hi; i++) {
      const j = i - lo;
      const gcls = this.gaps.observe(i, present[i] === 1, tsMs);
      out.gap[i] = GAP_CLASSES[gcls]!;
      bGap[j] = gcls;
      let x = vals[i]!;
      if (x === x) {
        if (c.kindFixed[i] === 0) this.autoKind(i, x);
        if (c.kind[i] === 1) {
          const had = c.hasRaw[i] === 1;
          const prev = c.lastRaw[i]!;
          const dtS = (tsMs - c.lastRawT[i]!) / 1000;
          c.lastRaw[i] = x;
          c.lastRawT[i] = tsMs;
          c.hasRaw[i] = 1;
          // a drop is a counter reset: the increase over that interval is unknown → missing
          x = had && dtS > 0 && x >= prev ? (x - prev) / dtS : NaN;
        }
      }
      bX[j] = x;
      // (= hw.expected: the same sum, its seasonal term kept for `passShapes`)
      const season = this.hw.seasonal(i, tsMs);
      const hwExp = this.hw.levelForecast(i) + season;
      bSeason[j] = season;
      let exp = hwExp;
      let sc = this.hw.scale(i, tsMs);
      if (exp !== exp) {
        exp = this.rz.expected(i);
        sc = this.rz.scale(i);
      }
      bHwExp[j] = hwExp;
      out.expected[i] = exp;
      out.lower[i] = exp - o.bandZ * sc;
      out.upper[i] = exp + o.bandZ * sc;
    }
  }

  /**
   * Block pass 2 (present points): level-shift CUSUM on the de-seasonalised value, flat-line
   * run check, count-rate CUSUM and variance change — all before Tier 1 learns the point.
   */
  private passShapes(lo: number, hi: number, tsMs: number): void {
    const o = this.options;
    const c = this.st.cols;
    const out = this.out;
    const bX = this.bX;
    for (let i = lo; i < hi; i++) {
      const j = i - lo;
      const x = bX[j]!;
      if (x !== x) continue;
      const exp = out.expected[i]!;
      const season = this.bSeason[j]!;
      this.bShift[j] = o.shiftCusum ? this.cu.update(i, x - season, tsMs, this.hw.period(i)) : 0;
      this.bStuck[j] = this.fl.update(i, x, tsMs);
      // count-rate CUSUM (sparse counts): Poisson LLR against the expected count, the larger of
      // Holt-Winters' forecast and the robust recent level (a season dented by yesterday's
      // incident or a lagging level must not make today's normal counts look like a burst)
      let burst = 0;
      if (o.countCusum && c.kind[i] !== 1) {
        // the slow reference needs the daily cycle modelled: without a learnt season the
        // forecaster's level (which follows the daily ramp) is part of the floor
        const rl = this.rz.expected(i);
        const floor = this.hw.period(i) > 0 || !(exp > rl) ? rl : exp;
        burst = this.cc.update(i, x, tsMs, season, floor);
      }
      this.bBurst[j] = burst;
    }
    this.passRecordVariance(lo, hi, tsMs);
  }

  /**
   * `passShapes`' record and variance-change detectors, in a loop of their own (their updates
   * inline there; after the CUSUMs the loop above had no inlining budget left for them).
   */
  private passRecordVariance(lo: number, hi: number, tsMs: number): void {
    const o = this.options;
    const bX = this.bX;
    const bStuck = this.bStuck;
    const bHwExp = this.bHwExp;
    const bRecord = this.bRecord;
    const bJitter = this.bJitter;
    const bBreak = this.bBreak;
    for (let i = lo; i < hi; i++) {
      const j = i - lo;
      const x = bX[j]!;
      if (x !== x) continue;
      const hwExp = bHwExp[j]!;
      // record of the deviation, not on a stuck value (a frozen sensor's value is no record)
      bRecord[j] = o.recordRatio > 0 && bStuck[j] === 0 ? this.rec.update(i, x, tsMs) : 0;
      // variance change: Holt-Winters residual (HW's expectation before this point) vs slow scale
      bJitter[j] = o.varianceShift && hwExp === hwExp ? this.vs.update(i, x - hwExp) : 0;
      // season break: far from this time of day on each recent day, for a sustained run
      bBreak[j] = o.seasonBreak && bStuck[j] === 0 ? this.sb.update(i, x, tsMs, this.hw.period(i)) : 0;
    }
  }

  /**
   * Block pass 3: the four Tier-1 detectors, one loop each (raw scores into `lastZ`). A stuck
   * (flat-lined) value is scored but not learnt: a frozen sensor must not teach the detectors a
   * zero scale (after it thaws, routine noise would read as 10–20σ). Missing points advance AR's
   * imputation, as does a stuck one (its lags move on with its forecast, as in a gap).
   */
  private passTier1(lo: number, hi: number, tsMs: number): void {
    // one method per detector: each loop gets the optimiser's inlining budget to itself (an
    // inlined update passes and returns its doubles unboxed, no heap number per call)
    this.passRobustZ(lo, hi, tsMs);
    this.passHoltWinters(lo, hi, tsMs);
    this.passArRls(lo, hi, tsMs);
    this.passQuantile(lo, hi, tsMs);
  }

  private passRobustZ(lo: number, hi: number, tsMs: number): void {
    const z = this.st.cols.lastZ;
    const bX = this.bX;
    const bStuck = this.bStuck;
    const rz = this.rz;
    for (let i = lo; i < hi; i++) {
      const x = bX[i - lo]!;
      if (x === x) z[i * ND] = bStuck[i - lo] === 0 ? rz.update(i, x, tsMs) : rz.score(i, x, tsMs);
    }
  }

  private passHoltWinters(lo: number, hi: number, tsMs: number): void {
    const z = this.st.cols.lastZ;
    const bX = this.bX;
    const bStuck = this.bStuck;
    const hw = this.hw;
    for (let i = lo; i < hi; i++) {
      const x = bX[i - lo]!;
      if (x === x) z[i * ND + 1] = bStuck[i - lo] === 0 ? hw.update(i, x, tsMs) : hw.score(i, x, tsMs);
    }
  }

  private passArRls(lo: number, hi: number, tsMs: number): void {
    const z = this.st.cols.lastZ;
    const bX = this.bX;
    const bStuck = this.bStuck;
    const ar = this.ar;
    for (let i = lo; i < hi; i++) {
      const x = bX[i - lo]!;
      if (x !== x) ar.update(i, NaN, tsMs);
      else if (bStuck[i - lo] === 0) z[i * ND + 2] = ar.update(i, x, tsMs);
      else {
        z[i * ND + 2] = ar.score(i, x, tsMs);
        ar.update(i, NaN, tsMs);
      }
    }
  }

  private passQuantile(lo: number, hi: number, tsMs: number): void {
    const z = this.st.cols.lastZ;
    const bX = this.bX;
    const bStuck = this.bStuck;
    const qf = this.qf;
    for (let i = lo; i < hi; i++) {
      const x = bX[i - lo]!;
      if (x === x) z[i * ND + 3] = bStuck[i - lo] === 0 ? qf.update(i, x, tsMs) : qf.score(i, x, tsMs);
    }
  }

  /**
   * Block pass 4 (present points): observation count, the extreme-point ratio (judged against
   * each detector's history of extremes before this point enters it) and the four tail
   * probabilities into `bP`. Calibrators learn only once the Tier-1 scales have settled
   * (warm-up scores are inflated) and not from stuck points.
   */
  private passCalibrate(lo: number, hi: number): void {
    const o = this.options;
    const c = this.st.cols;
    const z = c.lastZ;
    const cal = this.cal;
    const bX = this.bX;
    const bP = this.bP;
    const minExt = o.extremeRatio * o.extremeFloor;
    // the block's histogram rows, loaded in one tight loop (see `TailCalibrator.touch`)
    cal.touch(2 + lo * ND, 2 + hi * ND);
    for (let i = lo; i < hi; i++) {
      const j = i - lo;
      if (bX[j]! !== bX[j]!) continue;
      const nObs = c.nObs[i]! + 1;
      c.nObs[i] = nObs;
      const learnCal = nObs > 30 && this.bStuck[j] === 0;
      const base = 2 + i * ND;
      const zo = i * ND;
      const z0 = z[zo]!;
      const z1 = z[zo + 1]!;
      const z2 = z[zo + 2]!;
      const z3 = z[zo + 3]!;
      // (not on streams with false-positive feedback: the user said their big excursions are benign;
      // fewer than two scores past ratio × floor cannot make a ratio: `extremeRatio` is not called)
      const big = (z0 >= minExt ? 1 : 0) + (z1 >= minExt ? 1 : 0) + (z2 >= minExt ? 1 : 0) + (z3 >= minExt ? 1 : 0);
      this.bExt[j] = o.extremeRatio > 0 && learnCal && c.fb[i]! >= 1 && big >= 2 ? this.extremeRatio(base, zo) : 0;
      const po = j * ND;
      // one call taking arrays: `update` inlines there, and whether or not this call is inlined
      // no double crosses a call boxed (four sites exhausted the optimiser's inlining budget)
      if (learnCal) cal.updateRow(base, ND, z, zo, bP, po);
      else this.calibrateOnly(base, po, zo);
    }
  }

  /**
   * `passCalibrate` for a point the calibrators do not learn (warm-up, stuck). Out of the loop:
   * four `p` calls inlined there would use up the budget the four `update`s need to inline.
   */
  private calibrateOnly(base: number, po: number, zo: number): void {
    const cal = this.cal;
    const bP = this.bP;
    const z = this.st.cols.lastZ;
    const z0 = z[zo]!;
    const z1 = z[zo + 1]!;
    const z2 = z[zo + 2]!;
    const z3 = z[zo + 3]!;
    bP[po] = cal.p(base, z0);
    bP[po + 1] = cal.p(base + 1, z1);
    bP[po + 2] = cal.p(base + 2, z2);
    bP[po + 3] = cal.p(base + 3, z3);
  }

  /**
   * Block pass 5: scores (evidence, confidence, the shape detectors' floors, the likelihood),
   * severity and event tracking; missing points score their gap. Returns the block's maximum
   * anomalous score. In three loops (each gets the optimiser's inlining budget to itself): the
   * per-stream evidence, the likelihood, then in slot order what crosses streams (events).
   */
  private passScores(lo: number, hi: number, tsMs: number): number {
    this.passEvidence(lo, hi);
    if (this.options.likelihood) this.passLikelihood(lo, hi, tsMs);
    return this.passEvents(lo, hi, tsMs);
  }

  /**
   * Present points: the combined evidence and the shape detectors' floors into `bS` (the raw
   * score before the likelihood), the confidence into `out.confidence`.
   */
  private passEvidence(lo: number, hi: number): void {
    const o = this.options;
    const c = this.st.cols;
    const out = this.out;
    const bX = this.bX;
    const bP = this.bP;
    const bS = this.bS;
    const L = o.evidenceScale;
    for (let i = lo; i < hi; i++) {
      const j = i - lo;
      const x = bX[j]!;
      if (x !== x) continue;
      // two smallest p
      const po = j * ND;
      let p1 = 1;
      let p2 = 1;
      for (let k = 0; k < ND; k++) {
        const p = bP[po + k]!;
        if (p < p1) {
          p2 = p1;
          p1 = p;
        } else if (p < p2) p2 = p;
      }
      const l1 = -Math.log10(p1 > 1e-300 ? p1 : 1e-300);
      const l2 = -Math.log10(p2 > 1e-300 ? p2 : 1e-300);
      // agreement: one detector alone can add at most `agreementSlack` decades to the second
      const eInst = l1 < l2 + o.agreementSlack ? l1 : l2 + o.agreementSlack;
      // CUSUM input capped so that one extreme point cannot look "sustained"
      let sus = o.sustainDecay * c.sus[i]! + (l2 < o.sustainCap ? l2 : o.sustainCap) - o.sustainOffset;
      if (sus < 0) sus = 0;
      c.sus[i] = sus;
      let e = eInst > sus ? eInst : sus;
      // a stream with a learnt season: the season-aware detector (Holt-Winters) must agree, so
      // a step it has learnt (a nightly cron) is not an anomaly because the season-blind robust
      // z and AR see a jump
      if (this.hw.period(i) > 0) {
        const ph = bP[po + 1]!;
        // (usually one of the two smallest: their logs are already at hand)
        const lph = ph === p1 ? l1 : ph === p2 ? l2 : -Math.log10(ph > 1e-300 ? ph : 1e-300);
        const lh = lph + o.seasonalSlack;
        if (e > lh) e = lh;
      }
      c.lastSigned[i] = x - out.expected[i]!;
      // confidence: warm-up ramp × health
      const nObs = c.nObs[i]!;
      const warm = nObs < 10 ? 0 : nObs >= o.warmupSteps ? 1 : nObs / o.warmupSteps;
      out.confidence[i] = warm * (0.5 + 0.5 * this.gaps.health(i));
      let s = (100 * e) / L;
      // an extreme point scores at least 80 (100 at 2× the ratio threshold)
      const ext = this.bExt[j]!;
      if (ext > 0) {
        const sx = 80 + 20 * Math.log2(ext / o.extremeRatio);
        if (sx > s) s = sx;
      }
      // sustained level shift (CUSUM) or flat-line: at least 65 (low), more the stronger
      const shift = this.bShift[j]!;
      if (shift > 0) {
        const sc = 65 + 30 * Math.min(1, shift - 1);
        if (sc > s) s = sc;
      }
      // sustained rise of a small count's rate (Poisson CUSUM): at least 65, more the stronger
      const burst = this.bBurst[j]!;
      if (burst > 0) {
        const sb = 65 + 30 * Math.min(1, burst - 1);
        if (sb > s) s = sb;
      }
      const jitter = this.bJitter[j]!;
      if (jitter > 0) {
        const sv = 65 + 30 * Math.min(1, (jitter - 1) * 2);
        if (sv > s) s = sv;
      }
      // a daily pattern broken for a sustained run: at least 65 (low), more the further
      const brk = this.bBreak[j]!;
      if (brk > 0) {
        const sk = 65 + 30 * Math.min(1, brk - 1);
        if (sk > s) s = sk;
      }
      const stuck = this.bStuck[j]!;
      if (stuck > 0) {
        const sf = stuckFloor(stuck);
        if (sf > s) s = sf;
      }
      bS[j] = s;
    }
  }

  /** Present points: the score likelihood, how unusual the recent raw scores are for this stream (`bS` in and out). */
  private passLikelihood(lo: number, hi: number, tsMs: number): void {
    const o = this.options;
    const bX = this.bX;
    const bS = this.bS;
    // raw scores as high as this hour reached on each recent day are routine (a nightly batch)
    const routine = o.seasonRoutine && o.seasonBreak;
    for (let i = lo; i < hi; i++) {
      const j = i - lo;
      const x = bX[j]!;
      if (x !== x) continue;
      // context novelty joins the raw score the likelihood judges (it has no score of its own)
      const nv = o.novelty > 0 ? o.novelty * this.nv.update(i, x) : NaN;
      const ev = this.lk.update(i, bS[j]! / 100, tsMs, nv, routine ? this.sb.routine(i, tsMs) : NaN);
      if (routine) this.sb.noteRoutine(i, tsMs, this.lk.short(i));
      bS[j] = (100 * ev) / o.likelihoodScale;
      this.bConfirm[j] = this.confirmation();
    }
  }

  /**
   * After the likelihood's update of a point: is the point itself still unusual for its stream,
   * its raw score alone (the point channel) at `confirmEvidence` decades (CONFIRMS), or at
   * `confirmScoreEvidence` so that it confirms when its score is also at `confirmScore`
   * (CONFIRMS_IF_ELEVATED)? The short mean of raw scores is left out: after one spike it stays
   * high for several points, an echo and not a second sighting; so is the novelty channel (on
   * ASD it confirmed more blips than changes).
   */
  private confirmation(): number {
    const o = this.options;
    const ev = this.lk.lastPointEvidence;
    if (o.confirmEvidence > 0 && ev >= o.confirmEvidence) return CONFIRMS;
    return o.confirmScore > 0 && ev >= o.confirmScoreEvidence ? CONFIRMS_IF_ELEVATED : 0;
  }

  /** Whether a point of confirmation `c` (see `confirmation`), scoring `s`, confirms a waiting excursion. */
  private confirmsAt(c: number, s: number): boolean {
    return c === CONFIRMS || (c === CONFIRMS_IF_ELEVATED && s >= this.options.confirmScore);
  }

  /**
   * In slot order: the final score of present points (record floor, sensitivity, feedback) and
   * of missing ones (their gap), severity and event tracking. Returns the block's maximum
   * anomalous score.
   */
  private passEvents(lo: number, hi: number, tsMs: number): number {
    const o = this.options;
    const c = this.st.cols;
    const out = this.out;
    const evOpen = this.book.flags;
    const bX = this.bX;
    const bS = this.bS;
    let maxScore = 0;
    for (let i = lo; i < hi; i++) {
      const j = i - lo;
      const x = bX[j]!;
      const id = this.ids[i]!;
      if (x !== x) {
        // missing: score the gap
        const gcls = this.bGap[j]!;
        let gs = 0;
        const health = this.gaps.healthBeforeGap(i);
        if (o.gapEvents && health >= 0.8 && gcls >= 3) gs = gcls === 3 ? 70 : gcls === 4 ? 85 : 97;
        const conf = this.gaps.observations(i) >= o.warmupSteps ? health : 0;
        const s = gs * (c.fb[i]! < 1 ? c.fb[i]! : 1);
        out.score[i] = s;
        out.confidence[i] = conf;
        const sev = conf >= o.minConfidence ? this.severityOf(s) : null;
        out.severity[i] = sev;
        out.isAnomaly[i] = sev !== null ? 1 : 0;
        this.recNow = 0;
        this.trackEvent(id, i, tsMs, 0, null, x);
        const ge = sev === null && (evOpen[i]! & EV_GAP) === 0 ? undefined : this.trackGapEvent(id, i, tsMs, s, sev, gcls);
        if (ge && ge.emitted && sev !== null) {
          out.inEvent[i] = 1;
          out.type[i] = "gap";
        }
        if (out.isAnomaly[i] === 1 && s > maxScore) maxScore = s;
        continue;
      } else if ((evOpen[i]! & EV_GAP) !== 0) {
        this.trackGapEvent(id, i, tsMs, 0, null, 0);
      }
      let s = bS[j]!;
      // the first points of a stuck stretch keep the flat-line floor after the likelihood: the
      // excursion the jump to the frozen value started would otherwise decay it (`stuckOnsetPoints`)
      const stuck = this.bStuck[j]!;
      if (stuck > 0 && o.stuckOnsetPoints > 0 && this.fl.onset(i, o.stuckOnsetPoints)) {
        const sf = stuckFloor(stuck);
        if (sf > s) s = sf;
      }
      // a new record of the stream's deviation: at least the low severity, after the likelihood
      // (whose long-run moments would absorb exactly the bursts that make a record rare); on a
      // stream with a learnt season the season-aware detector must agree (a count's daily peak
      // sets records against the all-day median that are nothing at that hour)
      const rec = this.hw.period(i) > 0 && c.lastZ[i * ND + 1]! < RECORD_SEASON_Z ? 0 : this.bRecord[j]!;
      if (rec > 0) {
        const sr = o.recordScore + 20 * Math.log2(rec / o.recordRatio);
        if (sr > s) s = sr;
      } else if (o.recurrenceHits > 0 && s >= o.severity.low && this.rec.recurrent(i)) {
        // a spike this stream has shown at its usual rate, three times already: kept just under
        // the low severity (the likelihood, whose short window forgets between spikes days
        // apart, found each one rare again)
        s = o.severity.low - 0.01;
      }
      // sensitivity scales every path (extreme points, shifts, flat-lines too), then clamp
      s *= this.anySensitivity ? (o.sensitivity[id] ?? 1) : 1;
      if (s > 100) s = 100;
      // feedback multiplier applies after the clamp so it also lowers saturated scores
      const conf = out.confidence[i]!;
      s *= conf * c.fb[i]!;
      out.score[i] = s;
      const sev = conf >= o.minConfidence ? this.severityOf(s) : null;
      out.severity[i] = sev;
      out.isAnomaly[i] = sev !== null ? 1 : 0;
      this.recNow = rec;
      this.breakNow = this.bBreak[j]!;
      // (a record opens an event at once only after calm, `recordOpenQuiet`: opening on every
      // record raised the scenarios' false alarms 0.14 → 0.21/day, their blips set records too)
      const cf = sev === null ? this.bConfirm[j]! : 0;
      if (cf !== 0 && (evOpen[i]! & EV_POINT) !== 0 && this.confirmsAt(cf, s) && this.book.pending(id, c.lastSigned[i]!, cf === CONFIRMS_IF_ELEVATED)) {
        // a second sighting, on the same side: the point itself is still unusual while an
        // excursion waits to open (onset shaping has lowered its score; the score stays its own)
        const e = this.book.confirm(id, tsMs);
        out.type[i] = e.emitted ? e.type : null;
        out.inEvent[i] = e.emitted ? 1 : 0;
      } else this.trackEvent(id, i, tsMs, s, sev, x, this.bExt[j]! > 0 || (rec > 0 && this.rec.quietPeak(i) < o.recordOpenQuiet));
      this.rec.noteScore(i, s);
      if (s > maxScore) maxScore = s;
    }
    return maxScore;
  }

  /**
   * Extreme-point rule: ratio r_k = z_k / max(extremeFloor, level_k) per detector, where level_k
   * is the raw score exceeded by ~extremeCount recent observations of that detector on this
   * stream (`TailCalibrator.extremeLevel`). Returns the second largest r_k when it is ≥
   * extremeRatio (two detectors agree the point dwarfs the stream's usual extremes), else 0.
   * Rationale: GPD tail probabilities saturate on heavy-tailed streams (a 30σ and a 10σ point
   * both read p ≈ 1e-4), while "k times larger than anything routinely seen here" stays
   * discriminative; cf. the "magnitude relative to the history of extremes" outlier rule of
   * Siffer et al., SPOT (KDD 2017). Cost: O(1) unless two scores exceed ratio × floor.
   */
  private extremeRatio(base: number, zo: number): number {
    const o = this.options;
    const zs = this.st.cols.lastZ;
    const z0 = zs[zo]!;
    const z1 = zs[zo + 1]!;
    const z2 = zs[zo + 2]!;
    const z3 = zs[zo + 3]!;
    const min = o.extremeRatio * o.extremeFloor;
    let big = 0;
    if (z0 >= min) big++;
    if (z1 >= min) big++;
    if (z2 >= min) big++;
    if (z3 >= min) big++;
    if (big < 2) return 0;
    let r1 = 0;
    let r2 = 0;
    for (let k = 0; k < ND; k++) {
      const z = k === 0 ? z0 : k === 1 ? z1 : k === 2 ? z2 : z3;
      if (z < min) continue;
      const lv = this.cal.extremeLevel(base + k, o.extremeCount);
      const r = z / (lv > o.extremeFloor ? lv : o.extremeFloor);
      if (r > r1) {
        r2 = r1;
        r1 = r;
      } else if (r > r2) r2 = r;
    }
    return r2 >= o.extremeRatio ? r2 : 0;
  }

  /** Streaming counter detection: `counter-kind.ts`'s rule, tallied a step at a time, decided once. */
  private autoKind(i: number, x: number): void {
    const c = this.st.cols;
    if (c.hasRaw[i] === 1) {
      c.nDiff[i] = c.nDiff[i]! + 1;
      const step = counterStep(c.lastRaw[i]!, x);
      if (step > 0) c.nPos[i] = c.nPos[i]! + 1;
      else if (step < 0) c.nBad[i] = c.nBad[i]! + 1;
    }
    c.lastRaw[i] = x;
    c.hasRaw[i] = 1;
    if (c.nDiff[i]! >= COUNTER_MIN_DIFFS) {
      c.kindFixed[i] = 1;
      const isCounter = counterVerdict(c.nDiff[i]!, c.nPos[i]!, c.nBad[i]!, x >= 0);
      c.hasRaw[i] = 0;
      if (isCounter) {
        this.resetStream(i);
        c.kind[i] = 1;
        c.nObs[i] = 0;
        c.sus[i] = 0;
      }
    }
  }

  // ---------------------------------------------------------------- events

  private trackEvent(id: string, i: number, tsMs: number, score: number, sev: Severity | null, x: number, extreme = false): void {
    const anomalous = sev !== null && x === x;
    if (!anomalous && (this.book.flags[i]! & EV_POINT) === 0) {
      // nothing open and nothing to open (what `advance` would conclude, without its closures)
      this.out.type[i] = null;
      this.out.inEvent[i] = 0;
      return;
    }
    this.advanceEvent(id, i, tsMs, score, sev, x, extreme, anomalous);
  }

  /**
   * `trackEvent`'s open/extend/close step. A method of its own: its closures' context would
   * otherwise be allocated on every call of `trackEvent`, also when it returns early.
   */
  private advanceEvent(id: string, i: number, tsMs: number, score: number, sev: Severity | null, x: number, extreme: boolean, anomalous: boolean): void {
    const e = this.book.advance(id, anomalous, tsMs, score, sev, () => newEvent(id, [id], tsMs, "point"), extreme, (ev, newPeak) => {
      const c = this.st.cols;
      const zo = i * ND;
      // the type the explanation was written under (it may change with this point)
      const typed = ev.type;
      notePoint(ev, newPeak, c.lastSigned[i]!, c.lastZ, zo, this.hw.period(i) > 0, this.breakNow > 0);
      if (newPeak || ev.explanation === "") {
        const out = this.out;
        const band = { expected: out.expected[i]!, lower: out.lower[i]!, upper: out.upper[i]! };
        ev.explanation = pointExplanation(ev.type, id, c.lastZ, zo, { record: this.recNow, seasonBreak: this.breakNow * this.sb.params.ratio }, band, x, c.kind[i] === 1);
      } else if (ev.type !== typed) ev.explanation = retypeExplanation(ev.explanation, ev.type);
    });
    this.out.type[i] = e && e.emitted ? e.type : null;
    this.out.inEvent[i] = e && e.emitted && anomalous ? 1 : 0;
  }

  private trackGapEvent(id: string, i: number, tsMs: number, score: number, sev: Severity | null, gcls: number): OpenEvent | undefined {
    const key = `${id}${GAP_SUFFIX}`;
    return this.book.advance(key, sev !== null, tsMs, score, sev, () => newEvent(key, [id], tsMs, "gap"), false, (ev) => {
      ev.explanation = gapExplanation(id, GAP_CLASSES[gcls]!, tsMs - this.gaps.lastSeen(i), this.gaps.interval(i));
    });
  }

  /**
   * Two streams anomalous on one step are joint evidence that neither is alone (the CLI's row
   * score has the same rule, `tablePairExponent`): with e decades of evidence on the second
   * highest stream score, the pair scores κ·e − log10(n(n−1)/2) decades, the second term paying
   * for the number of pairs that could have met by chance, so the rule gets stricter as the
   * engine holds more streams. Needs the stream likelihood (scores in decades) and three
   * streams or more (of two, the pair is the whole table and the larger score already says it).
   * Only values count: streams gone silent have their own gap anomalies (and an ended one none).
   */
  private pairScore(n: number): number {
    const o = this.options;
    if (!o.pairEvents || n < 3 || !o.likelihood || !o.tableBonferroni || o.tablePairExponent <= 0) return 0;
    const sc = this.out.score;
    const present = this.present;
    let top = 0;
    let second = 0;
    for (let i = 0; i < n; i++) {
      if (present[i] !== 1) continue;
      const v = sc[i]!;
      if (v > top) {
        second = top;
        top = v;
      } else if (v > second) second = v;
    }
    const s = o.tablePairExponent * second - (100 * Math.log10((n * (n - 1)) / 2)) / o.likelihoodScale;
    return s <= 0 ? 0 : s < 100 ? s : 100;
  }

  private trackMvEvent(tsMs: number, score: number, sev: Severity | null, by: "mv" | "breadth" | "pair"): void {
    this.book.advance(MV_KEY, sev !== null, tsMs, score, sev, () => newEvent(MV_KEY, [], tsMs, "collective"), false, (ev, newPeak) => {
      if (!newPeak && ev.streamIds.length > 0) return;
      if (by === "breadth") {
        // contributors: the streams whose move was the least likely for them
        const bp = this.tier2.breadthP;
        const picks: number[] = [];
        for (let i = 0; i < bp.length; i++) if (bp[i]! < 1) picks.push(i);
        picks.sort((a, b) => bp[a]! - bp[b]! || (this.ids[a]! < this.ids[b]! ? -1 : 1));
        ev.streamIds = picks.slice(0, 5).map((i) => this.ids[i]!);
        ev.type = "collective";
        ev.explanation = breadthExplanation(score, picks.length, ev.streamIds);
        nameCollective(ev);
        return;
      }
      // contributors: the streams with the highest current scores, or silent ones
      const n = this.ids.length;
      const picks: { id: string; s: number }[] = [];
      for (let i = 0; i < n; i++) {
        const s = this.present[i] === 1 ? this.out.score[i]! : this.gaps.gapClass(i) >= 2 ? 50 : 0;
        if (s > 20) picks.push({ id: this.ids[i]!, s });
      }
      picks.sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1));
      ev.streamIds = picks.slice(0, 5).map((p) => p.id);
      const silent = picks.filter((p) => this.present[this.index.get(p.id)!] === 0).length;
      ev.type = silent > 0 && silent === picks.length ? "gap" : "collective";
      ev.explanation = by === "pair" ? pairExplanation(score, ev.streamIds) : multivariateExplanation(score, ev.streamIds);
      nameCollective(ev);
    });
  }

  /** Health (0–1, data availability vs the stream's learnt cadence) and current gap class. */
  streamHealth(streamId: string): { health: number; gap: GapClass } | undefined {
    const i = this.index.get(streamId);
    return i === undefined ? undefined : this.streamHealthAt(i);
  }

  /** `streamHealth` of the stream at slot `i` (see `streamIndex`), for callers walking every slot. */
  streamHealthAt(i: number): { health: number; gap: GapClass } {
    return { health: this.gaps.health(i), gap: GAP_CLASSES[this.gaps.gapClass(i)] ?? "none" };
  }

  /** Currently open (emitted) events. */
  openEvents(): AnomalyEvent[] {
    return this.book.openEvents();
  }

  // ---------------------------------------------------------------- feedback & forecast

  /**
   * Feedback on a stream's anomaly. `false_positive`: the stream's score multiplier drops by
   * 30 % (floor 0.2) and each detector's calibration threshold is raised so that the raw scores
   * seen at the last event's peak map to an unremarkable tail probability (1e-2) — the same data
   * replayed scores lower. `true_positive`: the multiplier recovers by 30 % (cap 1).
   */
  applyFeedback(streamId: string, fb: Feedback): void {
    const i = this.index.get(streamId);
    if (i === undefined) throw new Error(`unknown stream "${streamId}"`);
    const c = this.st.cols;
    if (fb.label === "false_positive") {
      c.fb[i] = Math.max(0.2, c.fb[i]! * 0.7);
      const e = this.book.peakOf(streamId);
      const z = e ? e.peakZ : Array.from(c.lastZ.subarray(i * ND, i * ND + ND));
      for (let k = 0; k < ND; k++) this.cal.raiseTo(2 + i * ND + k, z[k]!, 1e-2);
    } else {
      c.fb[i] = Math.min(1, c.fb[i]! / 0.7);
    }
  }

  /**
   * Forecast `horizonSteps` steps ahead from Holt-Winters (damped trend + season) at the stream's
   * learnt interval; band = ±bandZ·σ·√(1 + (h−1)α²).
   */
  forecast(streamId: string, horizonSteps: number): ForecastResult {
    const i = this.index.get(streamId);
    if (i === undefined) throw new Error(`unknown stream "${streamId}"`);
    const h = Math.max(0, Math.floor(horizonSteps));
    const r: ForecastResult = {
      tsMs: new Float64Array(h),
      expected: new Float64Array(h),
      lower: new Float64Array(h),
      upper: new Float64Array(h),
    };
    const dt = this.hw.interval(i) || this.gaps.interval(i) || 60_000;
    const t0 = Number.isFinite(this.lastTs) ? this.lastTs : 0;
    const s = this.hw.scale(i);
    const a = this.hw.params.alpha;
    for (let k = 1; k <= h; k++) {
      const t = t0 + k * dt;
      const e = this.hw.forecastAt(i, k, t);
      const w = this.options.bandZ * s * Math.sqrt(1 + (k - 1) * a * a);
      r.tsMs[k - 1] = t;
      r.expected[k - 1] = e;
      r.lower[k - 1] = e - w;
      r.upper[k - 1] = e + w;
    }
    return r;
  }

  // ---------------------------------------------------------------- persistence

  /**
   * The engine's state. `form` "text" (the default) is JSON-safe; "binary" holds the per-stream
   * columns as views of the live arrays, for a container that copies them out before the
   * engine steps again (`ColumnForm`).
   */
  serialize(form: ColumnForm = "text"): EngineState {
    return engineState({
      options: this.options,
      ids: this.ids.slice(),
      streams: this.st.serialize(this.ids.length, form),
      banks: saveBanks(this.banks(), undefined, form),
      cal: this.cal.serialize(form),
      tier2: this.tier2.serialize(),
      events: this.book.serialize(),
      lastTs: this.lastTs,
      steps: this.steps,
    });
  }

  /**
   * A new engine holding copies of streams `ids` only (unknown ids are left out): their learnt
   * state, open events and calibration, with the same options but Tier 2 off (the multivariate
   * models see every stream together and cannot be cut to a few). The copy's first step scores
   * those streams exactly as this engine's per-stream path would at its next step, and changes
   * nothing here: the real-time scoring API probes live models this way. (Later steps of the
   * copy can drift: Holt-Winters staggers its season checks by slot.)
   * Cost O(state of those streams).
   */
  extract(ids: readonly string[]): DetectionEngine {
    const keep: string[] = [];
    const slots: number[] = [];
    const seen = new Set<string>();
    for (const id of ids) {
      const i = this.index.get(id);
      if (i === undefined || seen.has(id)) continue;
      seen.add(id);
      keep.push(id);
      slots.push(i);
    }
    const calSlots = [0, 1];
    for (const i of slots) for (let k = 0; k < ND; k++) calSlots.push(2 + i * ND + k);
    const options = structuredClone(this.options);
    options.tier2.enabled = false;
    return DetectionEngine.restore(
      engineState({
        options,
        ids: keep,
        // in memory: the gathered columns, no base64 round trip
        streams: this.st.gatherSlots(slots),
        banks: saveBanks(this.banks(), slots),
        cal: this.cal.serializeSlots(calSlots),
        tier2: new Tier2(options).serialize(),
        events: this.book.serializeStreams(keep),
        lastTs: this.lastTs,
        steps: this.steps,
      }),
    );
  }

  /** The per-stream banks (as the saved state names them). */
  private banks(): EngineBanks {
    return { rz: this.rz, hw: this.hw, ar: this.ar, qf: this.qf, cu: this.cu, cc: this.cc, fl: this.fl, vs: this.vs, sb: this.sb, lk: this.lk, nv: this.nv, rec: this.rec, gaps: this.gaps };
  }

  static restore(state: unknown): DetectionEngine {
    const s = openEngineState(state);
    const e = new DetectionEngine(parseEngineOptions(getObject(s, "options")));
    const r = readEngineState(s, e.banks(), e.options);
    e.ids = r.ids;
    e.index = new Map(r.ids.map((id, i) => [id, i]));
    e.st.load(r.ids.length, getObject(s, "streams"));
    ({ rz: e.rz, hw: e.hw, ar: e.ar, qf: e.qf, cu: e.cu, cc: e.cc, fl: e.fl, vs: e.vs, sb: e.sb, lk: e.lk, nv: e.nv, rec: e.rec, gaps: e.gaps } = r.banks);
    e.cal = r.cal;
    e.tier2 = Tier2.restore(e.options, s);
    e.book.load(s, r.ids);
    e.lastTs = r.lastTs;
    e.steps = r.steps;
    e.allocOutputs();
    return e;
  }
}
