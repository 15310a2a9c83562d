/**
 * Replays stored samples through the worker's own engine path, offline: the engine adapter
 * (`engine-adapter.ts`) with the saved settings applied (`withSettings`, `../config/settings-gate.ts`), stepped
 * on the worker's step grid (`STEP_MS`, the newest sample of a stream within a step wins, every
 * stream with a sample in the step stepped together), with the stream's labels taught at the
 * moment the worker taught them. The backtest uses it, so that what it predicts on a stream the
 * worker scored from the start is what the worker opened.
 *
 * What can still differ from the worker: samples the worker dropped as late (they arrived after
 * their step was scored), and Tier-2 (multivariate) state when the worker's engine held other
 * streams than the replayed ones.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { EffectiveSettings } from "@/lib/config/settings";
import type { EngineEvent } from "@/lib/detectors/engine-port";
import type { TAnomalyLabel, TAnomalyType, TSeverity, TStreamKind } from "@/lib/schemas/stream";
import { createEngine, withSettings } from "./engine-adapter";

/** The worker's step grid: samples are scored per step of this length (see detect-pipeline.ts). */
export const STEP_MS = 10_000;

/** The step a sample at `tsMs` is scored in. */
export const stepOf = (tsMs: number, stepMs = STEP_MS) => Math.floor(tsMs / stepMs) * stepMs;

export interface ReplaySamples {
  /** sorted by time (ties in any order) */
  streamIds: ArrayLike<number>;
  tsMs: ArrayLike<number>;
  values: ArrayLike<number>;
}

export interface ReplayFeedback {
  streamIds: number[];
  label: TAnomalyLabel;
  startMs: number;
  endMs: number;
  /** data time after whose step the label is taught (the worker's clock when it applied it) */
  atMs: number;
}

export interface ReplaySettings {
  global: EffectiveSettings;
  streams: Map<number, EffectiveSettings>;
}

/** An anomaly as the worker's row would hold it after the replay (keyed like its `engine_id`). */
export interface ReplayedAnomaly {
  engineId: string;
  streamId: number;
  streamIds: number[];
  startMs: number;
  /** null while still open at the end of the data */
  endMs: number | null;
  peakScore: number;
  severity: TSeverity;
  type: TAnomalyType;
}

export interface ReplayResult {
  anomalies: ReplayedAnomaly[];
  steps: number;
  points: number;
  feedbackApplied: number;
}

/** Steps between yields to the event loop (the web process serves other requests meanwhile). */
const YIELD_EVERY = 2_000;

/** What the worker's upsert makes of a run of events with one engine id (anomalies-repo.ts). */
function fold(prev: ReplayedAnomaly | undefined, e: EngineEvent): ReplayedAnomaly {
  const endMs = e.kind === "closed" ? e.endMs : null;
  if (!prev) return { engineId: e.engineId, streamId: e.streamIds[0]!, streamIds: e.streamIds, startMs: e.startMs, endMs, peakScore: e.peakScore, severity: e.severity, type: e.type };
  return {
    ...prev,
    streamIds: e.streamIds,
    endMs,
    peakScore: Math.max(prev.peakScore, e.peakScore),
    severity: e.peakScore >= prev.peakScore ? e.severity : prev.severity,
    type: e.type,
  };
}

export async function replayStreams(
  streams: readonly { id: number; kind: TStreamKind }[],
  samples: ReplaySamples,
  settings: ReplaySettings,
  feedback: readonly ReplayFeedback[] = [],
  stepMs = STEP_MS,
): Promise<ReplayResult> {
  const engine = withSettings(createEngine());
  engine.setSettings(settings.global, settings.streams);
  // all at once, as the worker adds the streams of one read before stepping it
  engine.reserveStreams(streams.length);
  for (const s of streams) engine.addStream(s.id, s.kind);
  const labels = [...feedback].sort((a, b) => a.atMs - b.atMs);
  let nextLabel = 0;
  let feedbackApplied = 0;
  const rows = new Map<string, ReplayedAnomaly>();
  const n = samples.tsMs.length;
  const ids: number[] = [];
  const vals: number[] = [];
  const ts: number[] = [];
  const rowOf = new Map<number, number>();
  let steps = 0;
  for (let i = 0; i < n; ) {
    const b = stepOf(samples.tsMs[i]!, stepMs);
    ids.length = vals.length = ts.length = 0;
    rowOf.clear();
    for (; i < n && stepOf(samples.tsMs[i]!, stepMs) === b; i++) {
      const id = samples.streamIds[i]!;
      const t = samples.tsMs[i]!;
      const r = rowOf.get(id);
      if (r === undefined) {
        rowOf.set(id, ids.length);
        ids.push(id);
        vals.push(samples.values[i]!);
        ts.push(t);
      } else if (ts[r]! <= t) {
        vals[r] = samples.values[i]!;
        ts[r] = t;
      }
    }
    // the worker teaches a label between two steps: after the step its clock stood at
    for (; nextLabel < labels.length && labels[nextLabel]!.atMs < b; nextLabel++) {
      const f = labels[nextLabel]!;
      for (const id of f.streamIds) if (engine.hasStream(id)) engine.applyFeedback(id, f.label, f.startMs, f.endMs);
      feedbackApplied++;
    }
    const out = engine.step(b, Int32Array.from(ids), Float64Array.from(vals), Float64Array.from(ts));
    for (const e of out.events) rows.set(e.engineId, fold(rows.get(e.engineId), e));
    if (++steps % YIELD_EVERY === 0) await yieldToEventLoop();
  }
  return { anomalies: [...rows.values()].sort((a, b) => a.startMs - b.startMs || a.streamId - b.streamId), steps, points: n, feedbackApplied };
}
