/**
 * Backtest: replays the last N days of a scope's streams through fresh detection engines with
 * the current and the proposed settings, applies the same gate the worker applies, and reports
 * which anomalies each would have raised. Bounded: at most MAX_STREAMS streams and
 * MAX_POINTS points per stream (server-side downsampling keeps each bucket's extreme value, so
 * spikes survive), which answers in well under a few seconds.
 */
import { DetectionEngine } from "@/lib/detectors/engine";
import { engineCutoffs, gateEvent, type GateSeverity } from "@/lib/config/gate";
import { resolveSettings, ZDetectorSettings, type EffectiveSettings, type TDetectorSettings } from "@/lib/config/settings";
import { AppError } from "@/lib/errors/app-error";
import { listConfigs, listStreamScopes, type StreamScopeRow } from "../../repos/config-repo";
import { readSeries } from "../../repos/samples-repo";
import { indexConfigs, layersForStream, type ScopeTarget } from "../config/config-service";

export const MAX_STREAMS = 5;
export const MAX_POINTS = 10_000;

export interface BacktestAnomaly {
  streamId: number;
  streamKey: string;
  startMs: number;
  endMs: number;
  peakScore: number;
  severity: GateSeverity;
  type: string;
}

export interface BacktestSide {
  count: number;
  bySeverity: Record<GateSeverity, number>;
  anomalies: BacktestAnomaly[];
}

export interface BacktestResult {
  fromMs: number;
  toMs: number;
  streams: { id: number; key: string; points: number }[];
  streamsInScope: number;
  current: BacktestSide;
  proposed: BacktestSide;
  elapsedMs: number;
}

/** Replays one series through a fresh engine under `s`; pure apart from the engine. */
export function replaySeries(streamId: number, ts: number[], values: number[], s: EffectiveSettings): Omit<BacktestAnomaly, "streamKey">[] {
  const id = String(streamId);
  const engine = new DetectionEngine({
    sensitivity: s.sensitivity !== 1 ? { [id]: s.sensitivity } : {},
    severity: engineCutoffs([s], s.severity),
    warmupSteps: s.minTrainingSamples,
    gapEvents: s.detectors.gaps,
    tier2: { enabled: false },
  });
  engine.addStream(id, "gauge");
  const ids = [id];
  const v = new Float64Array(1);
  const events = new Map<string, { startMs: number; endMs: number; peakScore: number; type: string; closed: boolean }>();
  for (let i = 0; i < ts.length; i++) {
    v[0] = values[i]!;
    const r = engine.step(ts[i]!, ids, v);
    for (const c of r.changes) {
      events.set(c.event.id, { startMs: c.event.startMs, endMs: c.event.endMs, peakScore: c.event.peakScore, type: c.event.type, closed: c.kind === "closed" });
    }
  }
  const end = ts[ts.length - 1] ?? 0;
  const out: Omit<BacktestAnomaly, "streamKey">[] = [];
  for (const e of events.values()) {
    const g = gateEvent({ startMs: e.startMs, endMs: e.closed ? e.endMs : null, peakScore: e.peakScore, type: e.type }, s, end);
    if (g.action !== "raise") continue;
    out.push({ streamId, startMs: e.startMs, endMs: e.endMs, peakScore: e.peakScore, severity: g.severity, type: e.type });
  }
  return out;
}

function summarize(list: BacktestAnomaly[]): BacktestSide {
  const bySeverity: Record<GateSeverity, number> = { low: 0, medium: 0, high: 0 };
  for (const a of list) bySeverity[a.severity]++;
  return { count: list.length, bySeverity, anomalies: list.sort((a, b) => a.startMs - b.startMs) };
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

export async function runBacktest(input: { target: ScopeTarget; proposed: TDetectorSettings; days: number; nowMs?: number }): Promise<BacktestResult> {
  const t0 = performance.now();
  const proposed = ZDetectorSettings.safeParse(input.proposed);
  if (!proposed.success) throw new AppError("BAD_REQUEST", proposed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const target: ScopeTarget = { scope: input.target.scope, ref: input.target.scope === "global" ? "" : input.target.ref };
  const toMs = input.nowMs ?? Date.now();
  const fromMs = toMs - input.days * 86_400_000;
  const [{ list, total }, configs] = await Promise.all([streamsOf(target), listConfigs()]);
  const byKey = indexConfigs(configs);
  const current: BacktestAnomaly[] = [];
  const next: BacktestAnomaly[] = [];
  const streams: BacktestResult["streams"] = [];
  for (const s of list) {
    const series = await readSeries(s.id, fromMs, toMs, MAX_POINTS);
    const ts: number[] = [];
    const values: number[] = [];
    for (const p of series) {
      if (p.v === null) continue;
      // keep the bucket's extreme value so short spikes are not averaged away
      const lo = p.min ?? p.v;
      const hi = p.max ?? p.v;
      ts.push(p.t);
      values.push(hi - p.v >= p.v - lo ? hi : lo);
    }
    streams.push({ id: s.id, key: s.key, points: ts.length });
    if (ts.length < 2) continue;
    const layers = layersForStream(byKey, s);
    const curSettings = resolveSettings(layers);
    // Replace this scope's own layer with the proposal (global, source, group, stream order).
    const order = ["global", "source", "group", "stream"] as const;
    const idx = order.indexOf(target.scope);
    const proposedLayers = [...layers];
    proposedLayers[idx] = proposed.data;
    const propSettings = resolveSettings(proposedLayers);
    for (const a of replaySeries(s.id, ts, values, curSettings)) current.push({ ...a, streamKey: s.key });
    for (const a of replaySeries(s.id, ts, values, propSettings)) next.push({ ...a, streamKey: s.key });
  }
  return {
    fromMs,
    toMs,
    streams,
    streamsInScope: total,
    current: summarize(current),
    proposed: summarize(next),
    elapsedMs: Math.round(performance.now() - t0),
  };
}
