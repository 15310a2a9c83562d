/**
 * Tier 2 of the engine (across streams): Half-Space Trees and a sliding-window Isolation Forest
 * on a bounded feature vector. For ≤ `tier2.maxRawStreams` streams it holds one squashed
 * residual and one availability indicator per stream; above that a fixed 10-feature aggregate
 * (top-4 |z|, mean |z|, fraction |z|>3, availability fraction, unexpected-silence fraction, mean
 * signed z, max gap class), so the models' size does not grow with the stream count.
 *
 * A step gathers its features block by block while the streams are scored (`accumulate` runs in
 * slot order, as one pass would), then `finish` steps both models and combines their tail
 * probabilities as Tier 1 does per stream. Determinism: both models use the seeded RNG.
 */
import { BreadthRoutine } from "./breadth-routine";
import type { TailCalibrator } from "./calibration";
import { decodeF64, encodeF64, getNumber, getObject, isRecord } from "./codec";
import { ND, PRIOR_BETA, PRIOR_U, TIER1_DETECTORS } from "./engine-layout";
import type { GapTracker } from "./gaps";
import { HalfSpaceTrees } from "./half-space-trees";
import type { HoltWintersBank } from "./holt-winters";
import { IsolationForest } from "./isolation-forest";
import type { EngineOptions } from "./options";

const AGG_DIMS = 10;
// aggregate sums, indices into `Tier2.agg`
const AGG_SUM_ABS = 0;
const AGG_SUM_SIGNED = 1;
const AGG_BIG = 2;
const AGG_AVAIL = 3;
const AGG_UNEXPECTED = 4;
const AGG_MAX_GAP = 5;
const AGG_M = 6;
const AGG_FIELDS = 7;
/** Breadth counts above this share one bin (the tail is what matters, not its resolution). */
const BREADTH_BINS = 64;
/** The AR detector's slot among a stream's Tier-1 detectors: its residual is the one-step move. */
const AR_DETECTOR = TIER1_DETECTORS.indexOf("ar-rls");

/** Tier 2's part of a saved engine (top-level keys of the engine state). */
export interface Tier2State {
  hst: unknown;
  iforest: unknown;
  mv: { dims: number; sus: number; n: number; breadth?: { streams: number; n: number; hist: string; routine?: unknown } };
}

export class Tier2 {
  private hst: HalfSpaceTrees | null = null;
  private iforest: IsolationForest | null = null;
  private dims = 0;
  /** CUSUM of the weaker model's evidence, as per stream in Tier 1. */
  private sus = 0;
  /** Steps the current models have learnt (they restart when the layout changes). */
  private n = 0;
  private feat = new Float64Array(0);
  /** The step's feature vector holds one pair per stream (else the aggregate). */
  private raw = false;
  private topk = new Float64Array(4);
  /** Aggregate sums of the step so far (indices AGG_*). */
  private agg = new Float64Array(AGG_FIELDS);
  /**
   * Breadth: how many streams made an unusual one-step move together, as rare as the table has
   * seen it. `bHist[c]` counts the steps on which c streams did; it starts over when the stream
   * count is no longer within a factor of two of `bStreams`, the count it started with. `bCount`
   * is the current step's count.
   */
  private bHist: Float64Array = new Float64Array(BREADTH_BINS);
  private bSteps = 0;
  private bStreams = 0;
  private bCount = 0;
  /** Counts reached at each hour of the last days: a count the table meets daily at this hour is no alarm. */
  private bRoutine = new BreadthRoutine();
  /** Per slot, this step's AR tail probability when the stream counted towards breadth, else 1. */
  breadthP: Float64Array = new Float64Array(0);

  constructor(private readonly o: EngineOptions) {}

  /** Models learn from scratch (the stream set changed); so do their calibrator slots 0 and 1. */
  reset(cal: TailCalibrator): void {
    this.hst = null;
    this.iforest = null;
    this.dims = 0;
    this.sus = 0;
    this.n = 0;
    cal.reset(0, PRIOR_U, PRIOR_BETA);
    cal.reset(1, PRIOR_U, PRIOR_BETA);
  }

  /** Rebuilds the models when the feature layout changed; starts the step's feature sums. */
  begin(n: number): void {
    const o = this.o;
    const dims = n <= o.tier2.maxRawStreams ? 2 * n : AGG_DIMS;
    if (dims !== this.dims || this.hst === null || this.iforest === null) {
      this.dims = dims;
      this.feat = new Float64Array(dims);
      this.hst = new HalfSpaceTrees({ dims, trees: o.tier2.hstTrees, height: o.tier2.hstHeight, window: o.tier2.hstWindow, seed: o.seed });
      this.iforest = new IsolationForest({
        dims,
        trees: o.tier2.ifTrees,
        sample: o.tier2.ifSample,
        window: o.tier2.ifWindow,
        retrainEvery: o.tier2.ifRetrainEvery,
        seed: o.seed + 1,
      });
      this.n = 0;
    }
    // decided by `dims`, not by `maxRawStreams`: 5 streams under a `maxRawStreams` below 5 get
    // the aggregate's 10 dims and have always filled them per stream
    this.raw = this.dims === 2 * n;
    this.topk.fill(0);
    this.agg.fill(0);
    // the counts stay comparable while streams come and go; not once the table's size has halved or doubled
    if (n > 2 * this.bStreams || 2 * n < this.bStreams) {
      this.bStreams = n;
      this.bHist.fill(0);
      this.bSteps = 0;
    }
    if (this.breadthP.length !== n) this.breadthP = new Float64Array(n);
    this.bCount = 0;
  }

  /**
   * Counts the streams of block lo..hi−1 whose one-step move was unusual for them: the AR
   * detector's calibrated tail probability below `breadthP`. `bX`, `bP`: the engine's block
   * values (NaN = missing) and tail probabilities (ND per stream).
   */
  countBreadth(lo: number, hi: number, bX: Float64Array, bP: Float64Array): void {
    const pMax = this.o.tier2.breadthP;
    const bp = this.breadthP;
    let c = this.bCount;
    for (let j = 0; j < hi - lo; j++) {
      const x = bX[j]!;
      const p = bP[j * ND + AR_DETECTOR]!;
      if (x === x && p < pMax) {
        c++;
        bp[lo + j] = p;
      } else bp[lo + j] = 1;
    }
    this.bCount = c;
  }

  /**
   * The features of streams lo..hi−1 (scored this step): per stream for the raw layout, else
   * added to the aggregate sums. `lastSigned`, `lastZ`: the engine's per-stream columns.
   */
  accumulate(lo: number, hi: number, present: Uint8Array, lastSigned: Float64Array, lastZ: Float64Array, hw: HoltWintersBank, gaps: GapTracker): void {
    const f = this.feat;
    if (this.raw) {
      for (let i = lo; i < hi; i++) {
        const z = present[i] === 1 ? lastSigned[i]! / hw.scale(i) : 0;
        f[2 * i] = 0.5 + 0.5 * Math.tanh(z / 4);
        f[2 * i + 1] = present[i]!;
      }
      return;
    }
    const top = this.topk;
    const a = this.agg;
    let sumAbs = a[AGG_SUM_ABS]!;
    let sumSigned = a[AGG_SUM_SIGNED]!;
    let big = a[AGG_BIG]!;
    let avail = a[AGG_AVAIL]!;
    let unexpected = a[AGG_UNEXPECTED]!;
    let maxGap = a[AGG_MAX_GAP]!;
    let m = a[AGG_M]!;
    for (let i = lo; i < hi; i++) {
      if (present[i] === 1) {
        avail++;
        const z = lastZ[i * ND + 1]!;
        const zs = lastSigned[i]! / hw.scale(i);
        sumAbs += z;
        sumSigned += zs;
        if (z > 3) big++;
        m++;
        if (z > top[3]!) {
          let k = 3;
          while (k > 0 && z > top[k - 1]!) {
            top[k] = top[k - 1]!;
            k--;
          }
          top[k] = z;
        }
      } else {
        const g = gaps.gapClass(i);
        if (g > maxGap) maxGap = g;
        if (g >= 2 && gaps.healthBeforeGap(i) > 0.8) unexpected++;
      }
    }
    a[AGG_SUM_ABS] = sumAbs;
    a[AGG_SUM_SIGNED] = sumSigned;
    a[AGG_BIG] = big;
    a[AGG_AVAIL] = avail;
    a[AGG_UNEXPECTED] = unexpected;
    a[AGG_MAX_GAP] = maxGap;
    a[AGG_M] = m;
  }

  /**
   * Completes the feature vector of n streams, steps both models and returns the multivariate
   * score 0–100 (0 until `ready`).
   */
  finish(n: number, cal: TailCalibrator): number {
    const o = this.o;
    const f = this.feat;
    if (!this.raw) {
      const top = this.topk;
      const a = this.agg;
      const m = a[AGG_M]!;
      for (let k = 0; k < 4; k++) f[k] = Math.tanh(top[k]! / 6);
      f[4] = m > 0 ? Math.tanh(a[AGG_SUM_ABS]! / m / 3) : 0;
      f[5] = m > 0 ? a[AGG_BIG]! / m : 0;
      f[6] = n > 0 ? a[AGG_AVAIL]! / n : 0;
      f[7] = n > 0 ? a[AGG_UNEXPECTED]! / n : 0;
      f[8] = m > 0 ? 0.5 + 0.5 * Math.tanh(a[AGG_SUM_SIGNED]! / m / 3) : 0.5;
      f[9] = a[AGG_MAX_GAP]! / 5;
    }
    const hs = this.hst!.update(f);
    const is = this.iforest!.update(f);
    this.n++;
    const ready = this.ready;
    // HST raw: log-mass deficit; IF raw in (0,1): put both on a z-like scale for the priors
    const p1 = ready ? cal.update(0, hs) : 1;
    const p2 = ready && this.iforest!.trained ? cal.update(1, 10 * (is - 0.5)) : 1;
    const l1 = -Math.log10(p1 > 1e-300 ? p1 : 1e-300);
    const l2 = -Math.log10(p2 > 1e-300 ? p2 : 1e-300);
    const lo = l1 < l2 ? l1 : l2;
    const hi = l1 < l2 ? l2 : l1;
    const eInst = hi < lo + o.agreementSlack ? hi : lo + o.agreementSlack;
    let sus = o.sustainDecay * this.sus + (lo < o.sustainCap ? lo : o.sustainCap) - o.sustainOffset;
    if (sus < 0) sus = 0;
    this.sus = sus;
    const e = eInst > sus ? eInst : sus;
    const s = Math.min(100, (100 * e) / o.evidenceScale);
    return ready ? s : 0;
  }

  /**
   * The breadth score of the step: −log10 of the share of earlier steps with as many streams
   * moving unusually at once (`breadthDecades` decades = 100). The share is the table's own, so
   * streams that always move together (one server's metrics) raise no alarm by doing so; a
   * dozen of them jumping on one step, which the table has rarely seen, does, even when each
   * one alone is unremarkable. A count within `breadthRoutineRatio` of the one the table
   * reached near this hour on each of the last three days is its daily routine
   * (breadth-routine.ts) and scores 0; it still enters the counts.
   */
  finishBreadth(n: number, tsMs: number): number {
    const t = this.o.tier2;
    const c = this.bCount < BREADTH_BINS ? this.bCount : BREADTH_BINS - 1;
    const h = this.bHist;
    let s = 0;
    const routine = t.breadthRoutine ? this.bRoutine.routine(tsMs) : 0;
    if (t.breadthRoutine) this.bRoutine.note(tsMs, c);
    if (t.breadthDecades > 0 && n >= 3 && c >= t.breadthMin && this.bSteps >= t.breadthWarmup && c > routine * t.breadthRoutineRatio) {
      let ge = 0;
      for (let q = c; q < BREADTH_BINS; q++) ge += h[q]!;
      const e = -Math.log10((ge + 1) / (this.bSteps + 1));
      // 100 = the rarest count this history can show (a count never seen: log10(steps + 1)
      // decades), within [breadthDecadesMin, breadthDecades]: a fixed 4.5 held the counts of a
      // month of 5-minute steps (≤ 3.9 decades) to 87 and the broad moves ASD labels to 44–58
      const att = Math.log10(this.bSteps + 1);
      const scale = Math.min(t.breadthDecades, Math.max(t.breadthDecadesMin, att));
      s = Math.min(100, (100 * e) / scale);
    }
    h[c]!++;
    this.bSteps++;
    return s;
  }

  /** The models have seen a full HST window: scores (and events) count from here. */
  get ready(): boolean {
    return this.n > this.o.tier2.hstWindow;
  }

  /** Confidence of the multivariate score: 0 until 50 steps past `ready`, then 1. */
  get confidence(): number {
    return this.n >= this.o.tier2.hstWindow + 50 ? 1 : 0;
  }

  serialize(): Tier2State {
    return {
      hst: this.hst ? this.hst.serialize() : null,
      iforest: this.iforest ? this.iforest.serialize() : null,
      mv: {
        dims: this.dims,
        sus: this.sus,
        n: this.n,
        breadth: { streams: this.bStreams, n: this.bSteps, hist: encodeF64(this.bHist), routine: this.bRoutine.serialize() },
      },
    };
  }

  /** Reads Tier 2's keys of a saved engine state `s`. */
  static restore(o: EngineOptions, s: Record<string, unknown>): Tier2 {
    const t = new Tier2(o);
    t.hst = s.hst ? HalfSpaceTrees.restore(s.hst) : null;
    t.iforest = s.iforest ? IsolationForest.restore(s.iforest) : null;
    const mv = getObject(s, "mv");
    t.dims = getNumber(mv, "dims");
    t.sus = getNumber(mv, "sus");
    t.n = getNumber(mv, "n");
    t.feat = new Float64Array(t.dims);
    // (states saved before the breadth score start it afresh)
    const b = mv.breadth;
    if (isRecord(b) && typeof b.streams === "number" && typeof b.n === "number" && typeof b.hist === "string") {
      const hist = decodeF64(b.hist);
      if (hist.length === BREADTH_BINS) {
        t.bStreams = b.streams;
        t.bSteps = b.n;
        t.bHist = hist;
      }
      t.bRoutine = BreadthRoutine.restore(b.routine);
    }
    return t;
  }
}
