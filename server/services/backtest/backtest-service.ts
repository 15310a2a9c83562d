/**
 * Backtest: replays a scope's stored samples through the worker's engine path
 * (`../detection/replay.ts`) twice, under the current and under the proposed settings, and
 * reports what each would have raised, beside what the worker did raise in that period and,
 * where the streams carry ground truth, precision and recall.
 *
 * Production-faithful: the samples are read as stored (no resampling), stepped on the worker's
 * grid, every stream's effective settings are applied as the worker applies them (engine-wide
 * cut-offs from all streams, then the gate), and the streams' labels are taught at the data
 * time the worker taught them. The default range is all stored history of the scope, up to its
 * newest 30 days (a stream imported from 2014 is replayed in 2014).
 */
import { resolveSettings, ZDetectorSettings, type EffectiveSettings, type TDetectorSettings } from "@/lib/config/settings";
import { scoreAgainstTruth, type TruthScore } from "@/lib/backtest/truth";
import { AppError } from "@/lib/errors/app-error";
import type { TAnomalyLabel, TAnomalyType, TSeverity } from "@/lib/schemas/stream";
import { storedAnomalies } from "../../repos/backtest-repo";
import { readRawSamples, streamSpans, type StreamSpan } from "../../repos/storage/sample-reads";
import { listConfigs, listStreamScopes, type StreamScopeRow } from "../../repos/config-repo";
import { feedbackForStreams } from "../../repos/feedback-repo";
import { truthRanges } from "../../repos/stream-labels-repo";
import { effectiveSettingsByStream, indexConfigs, layersForStream, type ScopeTarget } from "../config/config-service";
import { replayStreams, type ReplayFeedback, type ReplaySettings } from "../detection/replay";

export const MAX_STREAMS = 5;
/** Samples replayed per run (both settings): beyond it the newest are kept and the result says so. */
export const MAX_SAMPLES = 1_000_000;
export const DEFAULT_SPAN_MS = 30 * 86_400_000;
/** The longest range a backtest replays. */
export const MAX_SPAN_MS = 31 * 86_400_000;

export interface BacktestAnomaly {
  streamId: number;
  streamKey: string;
  startMs: number;
  /** null: still open at the end of the range */
  endMs: number | null;
  peakScore: number;
  severity: TSeverity;
  type: TAnomalyType;
  /** overlaps a ground-truth range of its stream */
  truth: boolean;
}

export interface BacktestSide {
  count: number;
  bySeverity: Record<TSeverity, number>;
  anomalies: BacktestAnomaly[];
  /** against the streams' ground truth (null without any) */
  score: TruthScore | null;
}

export interface BacktestResult {
  fromMs: number;
  toMs: number;
  /** newest stored sample of the replayed streams (where the default range ends) */
  newestMs: number | null;
  streams: { id: number; key: string; points: number }[];
  streamsInScope: number;
  /** the newest MAX_SAMPLES samples were replayed, not the whole range */
  truncated: boolean;
  labelsApplied: number;
  truthRanges: { streamId: number; startMs: number; endMs: number }[];
  current: BacktestSide;
  proposed: BacktestSide;
  /** what the worker raised for these streams in the range */
  live: BacktestSide & { labelled: Record<TAnomalyLabel, number> };
  elapsedMs: number;
}

export interface BacktestInput {
  target: ScopeTarget;
  proposed: TDetectorSettings;
  /** explicit range (both or neither) */
  fromMs?: number;
  toMs?: number;
  /** the last `days` of stored data (ending at the newest sample) */
  days?: number;
}

async function streamsOf(t: ScopeTarget): Promise<{ list: StreamScopeRow[]; total: number }> {
  let all: StreamScopeRow[];
  if (t.scope === "stream") all = await listStreamScopes({ ids: [Number(t.ref)] });
  else if (t.scope === "group") all = await listStreamScopes({ group: t.ref });
  else if (t.scope === "source") all = await listStreamScopes({ sourceId: Number(t.ref) });
  else all = await listStreamScopes({ limit: 5000 });
  if (all.length === 0) throw new AppError("NOT_FOUND", "No streams in this scope to backtest.");
  return { list: all.slice(0, MAX_STREAMS), total: all.length };
}

/** The range to replay: explicit, the last `days` of data, or all history up to its newest 30 days. */
export function backtestRange(spans: readonly StreamSpan[], input: Pick<BacktestInput, "fromMs" | "toMs" | "days">): { fromMs: number; toMs: number; newestMs: number | null } {
  const lasts = spans.map((s) => s.lastMs).filter((x): x is number => x !== null);
  const firsts = spans.map((s) => s.firstMs).filter((x): x is number => x !== null);
  const newestMs = lasts.length ? Math.max(...lasts) : null;
  if (input.fromMs !== undefined && input.toMs !== undefined) {
    if (!(input.toMs > input.fromMs)) throw new AppError("BAD_REQUEST", "The backtest range ends before it starts: pick an end after the start.");
    if (input.toMs - input.fromMs > MAX_SPAN_MS) throw new AppError("BAD_REQUEST", "The backtest range is longer than 31 days: pick a shorter range.");
    return { fromMs: input.fromMs, toMs: input.toMs, newestMs };
  }
  if (newestMs === null) throw new AppError("NOT_FOUND", "The streams in this scope have no stored samples to backtest.");
  const toMs = newestMs + 1; // the range is [from, to): the newest sample is in it
  const span = input.days !== undefined ? input.days * 86_400_000 : DEFAULT_SPAN_MS;
  const fromMs = Math.max(Math.min(...firsts), toMs - span);
  return { fromMs, toMs, newestMs };
}

function summarize(list: BacktestAnomaly[], score: TruthScore | null): BacktestSide {
  const bySeverity: Record<TSeverity, number> = { low: 0, medium: 0, high: 0 };
  for (const a of list) bySeverity[a.severity]++;
  return { count: list.length, bySeverity, anomalies: list.sort((a, b) => a.startMs - b.startMs || a.streamId - b.streamId), score };
}

/** The worker's settings for every stream, with the scope's streams under `proposed` instead. */
async function settingsWith(scope: ScopeTarget, proposed: TDetectorSettings | null, inScope: readonly StreamScopeRow[]): Promise<ReplaySettings> {
  const { global, streams } = await effectiveSettingsByStream();
  if (!proposed) return { global, streams };
  const byKey = indexConfigs(await listConfigs());
  const order = ["global", "source", "group", "stream"] as const;
  const idx = order.indexOf(scope.scope);
  const resolveWith = (layers: (TDetectorSettings | undefined)[]): EffectiveSettings => {
    const l = [...layers];
    l[idx] = proposed;
    return resolveSettings(l);
  };
  const out = new Map(streams);
  // a global proposal changes every stream (and the engine-wide cut-offs), not only the replayed ones
  const affected = scope.scope === "global" ? await listStreamScopes() : inScope;
  for (const s of affected) out.set(s.id, resolveWith(layersForStream(byKey, s)));
  return { global: scope.scope === "global" ? resolveWith([undefined]) : global, streams: out };
}

function toFeedback(rows: Awaited<ReturnType<typeof feedbackForStreams>>): ReplayFeedback[] {
  // a label the worker has not taught yet (or taught before this was recorded) is taught when
  // its anomaly ended, as if it had been given then
  return rows.map((f) => ({ streamIds: f.streamIds, label: f.label, startMs: f.startMs, endMs: f.endMs ?? f.startMs, atMs: f.appliedDataMs ?? f.endMs ?? f.startMs }));
}

export async function runBacktest(input: BacktestInput): Promise<BacktestResult> {
  const t0 = performance.now();
  const proposed = ZDetectorSettings.safeParse(input.proposed);
  if (!proposed.success) throw new AppError("BAD_REQUEST", proposed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const target: ScopeTarget = { scope: input.target.scope, ref: input.target.scope === "global" ? "" : input.target.ref };
  const { list, total } = await streamsOf(target);
  const ids = list.map((s) => s.id);
  const spans = await streamSpans(ids);
  const { fromMs, toMs, newestMs } = backtestRange(spans, input);
  const [samples, feedbackRows, truth, stored, current, next] = await Promise.all([
    readRawSamples(ids, fromMs, toMs, MAX_SAMPLES),
    feedbackForStreams(ids),
    truthRanges(ids, fromMs, toMs),
    storedAnomalies(ids, fromMs, toMs),
    settingsWith(target, null, list),
    settingsWith(target, proposed.data, list),
  ]);
  const feedback = toFeedback(feedbackRows);
  const keyOf = new Map(list.map((s) => [s.id, s.key]));
  const kinds = spans.map((s) => ({ id: s.id, kind: s.kind }));
  const endMs = samples.tsMs.length ? samples.tsMs[samples.tsMs.length - 1]! : toMs;
  const side = (rows: { streamId: number; startMs: number; endMs: number | null; peakScore: number; severity: TSeverity; type: TAnomalyType }[]) => {
    const list: BacktestAnomaly[] = rows.map((a) => ({
      streamId: a.streamId,
      streamKey: keyOf.get(a.streamId) ?? String(a.streamId),
      startMs: a.startMs,
      endMs: a.endMs,
      peakScore: a.peakScore,
      severity: a.severity,
      type: a.type,
      truth: truth.some((t) => t.streamId === a.streamId && t.startMs <= (a.endMs ?? endMs) && a.startMs <= t.endMs),
    }));
    return summarize(list, truth.length ? scoreAgainstTruth(list, truth, endMs) : null);
  };
  const replay = (s: ReplaySettings) => replayStreams(kinds, samples, s, feedback);
  const cur = await replay(current);
  const prop = await replay(next);
  const labelled: Record<TAnomalyLabel, number> = { true_anomaly: 0, false_positive: 0, expected: 0 };
  for (const a of stored) if (a.label) labelled[a.label]++;
  const points = new Map<number, number>();
  for (let i = 0; i < samples.streamIds.length; i++) points.set(samples.streamIds[i]!, (points.get(samples.streamIds[i]!) ?? 0) + 1);
  return {
    fromMs,
    toMs,
    newestMs,
    streams: list.map((s) => ({ id: s.id, key: s.key, points: points.get(s.id) ?? 0 })),
    streamsInScope: total,
    truncated: samples.truncated,
    labelsApplied: cur.feedbackApplied,
    truthRanges: truth.map((t) => ({ streamId: t.streamId, startMs: t.startMs, endMs: t.endMs })),
    current: side(cur.anomalies),
    proposed: side(prop.anomalies),
    live: { ...side(stored), labelled },
    elapsedMs: Math.round(performance.now() - t0),
  };
}
