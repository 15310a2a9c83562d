/**
 * Detector settings per scope (global, source, group, stream): what the UI edits, what
 * omen.yaml declares, what the worker applies and what the backtest compares.
 *
 * A scope stores only the fields it overrides (`TDetectorSettings`, all optional); the effective
 * settings of a stream are the defaults overlaid by global → source → group → stream
 * (`resolveSettings`). Pure: no I/O, no clock.
 */
import { z } from "zod";

export const ZConfigScope = z.enum(["global", "source", "group", "stream"]);
export type TConfigScope = z.infer<typeof ZConfigScope>;

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (24 h, UTC)");
export const ZWeekday = z.enum(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
export type TWeekday = z.infer<typeof ZWeekday>;

/** A period during which no anomaly is opened (maintenance, batch jobs, deploys). UTC. */
export const ZMuteWindow = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("daily"),
      start: HHMM,
      end: HHMM,
      days: z.array(ZWeekday).min(1).optional(),
      note: z.string().max(200).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal("once"),
      from: z.iso.datetime({ offset: true }),
      to: z.iso.datetime({ offset: true }),
      note: z.string().max(200).optional(),
    })
    .strict()
    .refine((w) => Date.parse(w.from) < Date.parse(w.to), { message: "`from` must be before `to`", path: ["to"] }),
]);
export type TMuteWindow = z.infer<typeof ZMuteWindow>;

export const ZSeverityCutoffs = z
  .object({
    low: z.number().min(0).max(100),
    medium: z.number().min(0).max(100),
    high: z.number().min(0).max(100),
  })
  .strict()
  .refine((s) => s.low <= s.medium && s.medium <= s.high, { message: "cut-offs must satisfy low ≤ medium ≤ high" });
export type TSeverityCutoffs = z.infer<typeof ZSeverityCutoffs>;

export const ZDetectorToggles = z
  .object({
    /** Tier 1 per-stream ensemble (point, contextual, collective, trend anomalies). */
    univariate: z.boolean(),
    /** Tier 2 cross-stream model (global only: it spans all streams). */
    multivariate: z.boolean(),
    /** Gap anomalies when a stream that usually reports goes silent. */
    gaps: z.boolean(),
  })
  .strict();

export const SEASONALITY = ["auto", "none", "hourly", "daily", "weekly"] as const;

/** The band's half-width in forecast sigmas (engine option `bandZ`). */
export const ZBandSigmas = z.number().min(1).max(10);

export const ZDetectorSettings = z
  .object({
    /** Master switch: no anomalies are opened for the scope when false. */
    enabled: z.boolean().optional(),
    /** Score multiplier: 1 = default, < 1 quieter, > 1 louder. */
    sensitivity: z.number().min(0.1).max(5).optional(),
    severity: ZSeverityCutoffs.optional(),
    /** An anomaly is raised only once it has lasted this long (0 = at once). */
    minDurationSec: z.number().int().min(0).max(86_400).optional(),
    detectors: ZDetectorToggles.partial().strict().optional(),
    seasonality: z.enum(SEASONALITY).optional(),
    muteWindows: z.array(ZMuteWindow).max(50).optional(),
    /** Observations before a stream's scores are trusted (engine warm-up). Global. */
    minTrainingSamples: z.number().int().min(10).max(100_000).optional(),
    /** How long a model looks back when learning, in days (documentation for the detectors). */
    trainingWindowDays: z.number().int().min(1).max(365).optional(),
    /** Half-width of the expected range (the band around the forecast) in forecast sigmas. Global. */
    bandSigmas: ZBandSigmas.optional(),
  })
  .strict();
export type TDetectorSettings = z.infer<typeof ZDetectorSettings>;

export interface EffectiveSettings {
  enabled: boolean;
  sensitivity: number;
  severity: TSeverityCutoffs;
  minDurationSec: number;
  detectors: { univariate: boolean; multivariate: boolean; gaps: boolean };
  seasonality: (typeof SEASONALITY)[number];
  muteWindows: TMuteWindow[];
  minTrainingSamples: number;
  trainingWindowDays: number;
  bandSigmas: number;
}

export const DEFAULT_SETTINGS: EffectiveSettings = {
  enabled: true,
  sensitivity: 1,
  severity: { low: 60, medium: 80, high: 95 },
  minDurationSec: 0,
  detectors: { univariate: true, multivariate: true, gaps: true },
  seasonality: "auto",
  muteWindows: [],
  minTrainingSamples: 60,
  trainingWindowDays: 7,
  bandSigmas: 3,
};

/** Overlays partial settings in order (later wins); mute windows accumulate across scopes. */
export function resolveSettings(layers: (TDetectorSettings | null | undefined)[], base: EffectiveSettings = DEFAULT_SETTINGS): EffectiveSettings {
  const out: EffectiveSettings = { ...base, severity: { ...base.severity }, detectors: { ...base.detectors }, muteWindows: [...base.muteWindows] };
  for (const l of layers) {
    if (!l) continue;
    if (l.enabled !== undefined) out.enabled = l.enabled;
    if (l.sensitivity !== undefined) out.sensitivity = l.sensitivity;
    if (l.severity) out.severity = { ...l.severity };
    if (l.minDurationSec !== undefined) out.minDurationSec = l.minDurationSec;
    if (l.detectors) out.detectors = { ...out.detectors, ...l.detectors };
    if (l.seasonality) out.seasonality = l.seasonality;
    if (l.muteWindows) out.muteWindows.push(...l.muteWindows);
    if (l.minTrainingSamples !== undefined) out.minTrainingSamples = l.minTrainingSamples;
    if (l.trainingWindowDays !== undefined) out.trainingWindowDays = l.trainingWindowDays;
    if (l.bandSigmas !== undefined) out.bandSigmas = l.bandSigmas;
  }
  return out;
}

/** Scope key for maps: "stream:12", "group:db", "global:". */
export function scopeKey(scope: TConfigScope, ref: string): string {
  return `${scope}:${scope === "global" ? "" : ref}`;
}

/** Readable one-line-per-field difference between two partial settings (for version history). */
export function diffSettings(before: TDetectorSettings, after: TDetectorSettings): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]) as Set<keyof TDetectorSettings>;
  const lines: string[] = [];
  for (const k of [...keys].sort()) {
    const a = before[k] === undefined ? undefined : stableJson(before[k]);
    const b = after[k] === undefined ? undefined : stableJson(after[k]);
    if (a === b) continue;
    lines.push(`${k}: ${a ?? "(inherit)"} → ${b ?? "(inherit)"}`);
  }
  return lines;
}

/** JSON with object keys sorted (JSONB reorders keys, so plain JSON.stringify is not a stable identity). */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}
