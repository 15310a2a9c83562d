/** Engine configuration: zod schema (`ZEngineOptions`) with defaults, and its inferred type. */
import { z } from "zod";

export const ZSeverityCutoffs = z
  .object({
    low: z.number().min(0).max(100).default(60),
    medium: z.number().min(0).max(100).default(80),
    high: z.number().min(0).max(100).default(95),
  })
  .refine((s) => s.low <= s.medium && s.medium <= s.high, "severity cut-offs must satisfy low ≤ medium ≤ high");

export const ZTier2Options = z.object({
  enabled: z.boolean().default(true),
  /** Streams up to this count feed Tier 2 one value + one availability feature each; above it,
   * a fixed 10-feature aggregate (top-k residuals, availability fraction, …). */
  maxRawStreams: z.number().int().min(1).max(64).default(12),
  hstTrees: z.number().int().min(1).max(100).default(25),
  hstHeight: z.number().int().min(2).max(20).default(10),
  hstWindow: z.number().int().min(16).default(250),
  ifTrees: z.number().int().min(1).max(500).default(50),
  ifSample: z.number().int().min(8).max(4096).default(128),
  ifWindow: z.number().int().min(32).default(1024),
  ifRetrainEvery: z.number().int().min(16).default(256),
  /** Weight of the multivariate score in the row/overall score (0 = reported separately only). */
  weight: z.number().min(0).max(1).default(1),
  /**
   * Breadth score (tables of ≥ 3 streams): a stream "moves unusually" on a step when its AR
   * residual's tail probability is below `breadthP`; the step scores how rarely the table has
   * seen that many (≥ `breadthMin`) at once, once it has seen `breadthWarmup` steps. 100 is the
   * evidence its history can attain, log10(steps + 1) decades (a count never seen), kept within
   * [`breadthDecadesMin`, `breadthDecades`]. `breadthDecades` 0 = off.
   */
  breadthP: z.number().min(0).max(1).default(0.005),
  breadthMin: z.number().int().min(1).default(3),
  breadthWarmup: z.number().int().min(1).default(500),
  breadthDecades: z.number().min(0).default(4.5),
  breadthDecadesMin: z.number().min(0).default(4),
  /**
   * Daily routine of breadth (lib/detectors/breadth-routine.ts): no breadth score for a count
   * at most `breadthRoutineRatio` × the count the table reached within the hour on each of the
   * last three days.
   */
  breadthRoutine: z.boolean().default(true),
  breadthRoutineRatio: z.number().min(0).default(1.5),
});

export const ZEngineOptions = z.object({
  seed: z.number().int().default(42),
  severity: ZSeverityCutoffs.prefault({}),
  /** Consecutive anomalous steps before an event opens. */
  minAnomalySteps: z.number().int().min(1).default(2),
  /** A single anomalous step scoring above this opens an event without waiting for
   * `minAnomalySteps`. Default 100 = never by score alone (calibrated scores saturate on
   * heavy-tailed streams); extreme single points are opened by the `extremeRatio` rule below. */
  singlePointScore: z.number().min(0).max(100).default(100),
  /**
   * Extreme single points open an event at once (no `minAnomalySteps` wait). A point is extreme
   * when at least two Tier-1 detectors score it ≥ `extremeRatio` × that detector's own "typical
   * extreme" on this stream (the raw score exceeded by ~`extremeCount` recent observations, never
   * below `extremeFloor`). Moderate heavy-tail blips (3–10σ on a stream that has them) stay below
   * 2.5× the stream's usual extremes and are still ignored; 0 disables the rule.
   */
  extremeRatio: z.number().min(0).default(2.5),
  extremeFloor: z.number().positive().default(6),
  extremeCount: z.number().positive().default(4),
  /**
   * Confirmation: while a single anomalous point waits for `minAnomalySteps`, a following point
   * that is itself still unusual on the same side (its raw score alone at `confirmEvidence`
   * decades in the score likelihood's point channel) counts towards them, though onset shaping
   * has put its score below the alert level: a level that moved and stays moved, not a
   * one-sample blip. Its score stays its own. 0 disables the rule.
   */
  confirmEvidence: z.number().min(0).default(3),
  /**
   * Confirmation by a still-elevated score: the very next point, on the same side, whose score,
   * though onset shaping has put it below the alert level, is still at least `confirmScore`,
   * and whose raw score is still in the stream's tail (`confirmScoreEvidence` decades in the
   * point channel, 1 = its top tenth), confirms a waiting excursion too: a level that moved
   * and stays moved by less than `confirmEvidence` demands (a flat stretch, a sustained moderate
   * rise). Both are needed: the score alone also rises on the windowed channels' echo of one
   * blip, the evidence alone on a noisy stream's ordinary points; and it must follow at once
   * (a learnt nightly cron's ramp scores 62, then 32, then 57). 0 disables the rule.
   */
  confirmScore: z.number().min(0).max(100).default(45),
  confirmScoreEvidence: z.number().min(0).default(1),
  /**
   * Level-shift CUSUM (`shift-cusum.ts`, Page 1954) on the de-seasonalised value against a slow
   * reference: catches subtle persistent shifts the fast-adapting detectors absorb. Off by
   * default: on the synthetic benchmark it doubles recall on subtle shifts but streams without a
   * learnt weekly cycle (weekends) and imperfect seasons raise many false alarms.
   */
  shiftCusum: z.boolean().default(false),
  /**
   * Variance-change detector (`variance-shift.ts`): jitter with a steady level. Off by default:
   * on the synthetic benchmark it finds the missed packet-loss windows but telemetry whose noise
   * grows with the daily load (multiplicative noise) raised ~2× more false events.
   */
  varianceShift: z.boolean().default(false),
  /**
   * Season break (`season-break.ts`): on a stream with a daily or weekly season, a sustained run
   * far outside what the stream did at this time of day on each of the last three cycles (a
   * daily peak that does not come) scores at least 65.
   */
  seasonBreak: z.boolean().default(true),
  /**
   * Hourly routine (with `seasonBreak`): on a stream with a daily or weekly season, the score
   * likelihood judges the recent raw scores against at least the level they reached in this hour
   * on each of the last three cycles, so a nightly batch job's daily burst stops alarming.
   */
  seasonRoutine: z.boolean().default(true),
  /**
   * Count-rate CUSUM (`count-cusum.ts`, Lucas 1985): on streams of small non-negative integer
   * counts (failures, errors per step), a Poisson likelihood-ratio CUSUM against a slow,
   * season-aware reference rate catches a sustained rate increase (×2 or more) that moves each
   * point by only 2–4σ, e.g. an identity provider failing 4× more logins for an hour, or TCP
   * retransmits doubling during packet loss.
   */
  countCusum: z.boolean().default(true),
  /**
   * Record rule (`record.ts`): a value whose deviation from the stream's slow median beats the
   * largest seen on that side (slowly forgotten) by this factor scores at least `recordScore`.
   * 0 disables it.
   */
  recordRatio: z
    .number()
    .refine((v) => v === 0 || v >= 1, "recordRatio is 0 (off) or at least 1 (a record must beat the old one)")
    .default(1.2),
  recordScore: z.number().min(0).max(100).default(61),
  /**
   * A record opens an anomaly at once, without waiting for `minAnomalySteps`, when the stream
   * was quiet before it: its largest score, halving every `recordQuietHalfLife` points, is below
   * this (a new extreme after calm; a heavy-tailed stream's blips keep that peak up, so its
   * records still wait for a second point). 0 disables it.
   */
  recordOpenQuiet: z.number().min(0).max(100).default(30),
  recordQuietHalfLife: z.number().int().positive().default(288),
  /**
   * The first this many points of a stuck stretch (`flatline.ts`) keep the flat-line floor after
   * the score likelihood: the jump to the frozen value has usually just raised the likelihood's
   * bar, or started an excursion whose onset decay halves every later point, so the flat-line's
   * own points stayed under 60 and opened nothing. 0 disables it.
   */
  stuckOnsetPoints: z.number().int().min(0).max(10).default(2),
  /**
   * Recurrence (`record.ts`): a single spike (at most 2 points) within 0.7× of its side's record,
   * arriving as the `recurrenceHits`-th such excursion (30-day half-life) and not sooner than
   * half their mean spacing, scores below the low severity: the stream has shown it before, at
   * its usual rate. A new record, a denser run of such spikes, or a lasting excursion still
   * alarm. 0 disables it.
   */
  recurrenceHits: z.number().min(0).default(3),
  /** Non-anomalous steps tolerated inside one event before it closes. */
  mergeGapSteps: z.number().int().min(0).default(3),
  /** Observations before a stream reaches full confidence. */
  warmupSteps: z.number().int().min(1).default(60),
  /** Below this confidence a point is never flagged. */
  minConfidence: z.number().min(0).max(1).default(0.5),
  /** −log10(tail probability) that maps to score 100. */
  evidenceScale: z.number().positive().default(6),
  /** A single detector can exceed the second most confident one by at most this many decades
   * of tail probability (so one misbehaving detector cannot raise an alarm alone). */
  agreementSlack: z.number().min(0).default(1.5),
  /** On a stream with a learnt season, evidence is capped at Holt-Winters' own evidence plus
   * this many decades (the season-aware detector must agree; ≥ 300 = off). */
  seasonalSlack: z.number().min(0).default(2.5),
  /** Sustained-evidence accumulator (CUSUM on −log10 p): decay per step and reference. */
  sustainDecay: z.number().min(0).max(0.999).default(0.8),
  sustainOffset: z.number().min(0).default(1.3),
  /** Per-step input cap of the accumulator (decades), so a single point cannot look sustained. */
  sustainCap: z.number().min(0).default(3.5),
  /** Band half-width in robust sigmas for lower/upper. */
  bandZ: z.number().positive().default(3),
  /** Per-stream sensitivity multipliers (1 = default; < 1 quieter, > 1 louder). */
  sensitivity: z.record(z.string(), z.number().positive()).default({}),
  /** Unknown ids passed to step() are added as gauges (else they are ignored). */
  autoAddStreams: z.boolean().default(true),
  /** Detect monotonic counters causally (after 30 observations) and switch them to rates. */
  autoKind: z.boolean().default(false),
  /** Emit gap anomalies for silent streams that usually report. */
  gapEvents: z.boolean().default(true),
  /** Level shifts lasting this long are adopted as the new normal. */
  adaptWithinMs: z.number().positive().default(30 * 60_000),
  /**
   * Score likelihood (`score-likelihood.ts`): the final per-stream score is the evidence that the
   * stream's recent raw scores are unusual for it, `likelihoodScale` decades = 100 (so the low
   * severity 60 is a tail probability of 1e-6). Short window (EWMA span, points), long window
   * (points) and the floor on the long-run standard deviation of the 0–1 raw score.
   */
  likelihood: z.boolean().default(true),
  likelihoodScale: z.number().positive().default(10),
  likelihoodShortWindow: z.number().min(1).default(10),
  likelihoodLongWindow: z.number().min(10).default(5000),
  likelihoodMinStd: z.number().positive().default(0.03),
  /** Weight of the point channel (one raw score against the raw scores' own moments); 0 = off. */
  likelihoodPoint: z.number().min(0).default(0.5),
  /**
   * Context novelty (`context-novelty.ts`): weight (0–1, 0 = off) of the fraction of the
   * stream's current value context never seen before, as a raw score into the likelihood; the
   * value bands (`noveltyBins` over the warm-up range) and the longest context (points).
   */
  novelty: z.number().min(0).max(1).default(1),
  noveltyBins: z.number().int().min(2).max(1000).default(8),
  noveltyOrder: z.number().int().min(1).max(8).default(5),
  noveltyWarmup: z.number().int().min(10).default(150),
  /**
   * Floor on the long-run standard deviation of the novelty channel in the likelihood: one
   * novel point then moves it ~3σ (a new value band on a quiet stream is no alarm by itself),
   * a run of novel contexts far more.
   */
  noveltyMinStd: z.number().positive().default(0.06),
  /**
   * Onset shaping: an excursion (score ≥ severity.low) keeps its score for `onsetHold` points,
   * then decays by `onsetDecay` per point while it lasts, unless it escalates.
   */
  onset: z.boolean().default(true),
  onsetHold: z.number().int().min(1).default(1),
  onsetDecay: z.number().min(0).max(1).default(0.5),
  /** Evidence (decades) above an excursion's peak that makes it a new onset. */
  onsetEscalate: z.number().min(0).default(1),
  /** Points below severity.low before an excursion is over (a return sooner is the same one). */
  onsetCooldown: z.number().int().min(0).default(3),
  /**
   * `scoreTable` only. tableLikelihood: score a multi-column table's rows with one likelihood
   * over the raw row maximum (the engine's streams then run without it; an experiment, off).
   * tableBonferroni: the row score (max over n streams) is lowered by log10(n) decades.
   * tablePairExponent κ: two streams anomalous on one row are joint evidence: with e decades on
   * the second largest, the pair scores κ·e − log10(n(n−1)/2) decades (κ = 2 for independent
   * streams, 1 for fully dependent ones; metrics of one server are neither). 0 = off.
   */
  tableLikelihood: z.boolean().default(false),
  /**
   * Engine: two streams anomalous on one step open a collective anomaly (`pairScore`, the row
   * pair rule). Off: over a live installation's streams any spike beside any ongoing anomaly
   * passes the pair bar, joining unrelated hosts into one collective anomaly, until the engine
   * groups streams by host.
   */
  pairEvents: z.boolean().default(false),
  tableBonferroni: z.boolean().default(true),
  tablePairExponent: z.number().min(0).max(2).default(1.4),
  tier2: ZTier2Options.prefault({}),
});

export type EngineOptions = z.infer<typeof ZEngineOptions>;
export type EngineOptionsInput = z.input<typeof ZEngineOptions>;

export function parseEngineOptions(o: unknown): EngineOptions {
  return ZEngineOptions.parse(o ?? {});
}
