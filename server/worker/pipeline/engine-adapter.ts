import { DetectionEngine, type EngineOptionsInput } from "@/lib/detectors/engine";
import type { TAnomalyLabel, TStreamKind } from "@/lib/schemas/stream";
import type { EngineEvent, EnginePort, EngineTuning, StreamForecast, StreamHealthOut, StreamScore } from "./engine-port";

const MIN_BAND_CONFIDENCE = 0.3;
const MIN_FORECAST_HEALTH = 0.5;
const MAX_FORECAST_STEPS = 2000;

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

/**
 * Binds the pure DetectionEngine (string stream ids, typed-array outputs) to the worker's
 * database ids and row shapes. All detection logic stays in lib/detectors.
 */
class EngineAdapter implements EnginePort {
  constructor(
    readonly engine: DetectionEngine,
    private last = -Infinity,
  ) {}

  hasStream(id: number): boolean {
    return this.engine.hasStream(String(id));
  }

  addStream(id: number, kind: TStreamKind): void {
    this.engine.addStream(String(id), kind);
  }

  /** The engine's string id of each database id, made once (a step converts every id). */
  private readonly sids = new Map<number, string>();
  private sid(id: number): string {
    let s = this.sids.get(id);
    if (s === undefined) this.sids.set(id, (s = String(id)));
    return s;
  }

  step(tsMs: number, ids: number[], values: Float64Array, sampleTs: Float64Array) {
    const sids = ids.map((id) => this.sid(id));
    const res = this.engine.step(tsMs, sids, values);
    this.last = tsMs;
    const scores: StreamScore[] = new Array(ids.length);
    let n = 0;
    for (let k = 0; k < ids.length; k++) {
      const slot = this.engine.streamIndex(sids[k]!);
      if (slot < 0) continue;
      // The expected band is only drawn once the model is trusted; warm-up bands are too wide to read.
      const trusted = res.confidence[slot]! >= MIN_BAND_CONFIDENCE;
      scores[n++] = {
        streamId: ids[k]!,
        tsMs: sampleTs[k]!,
        score: res.score[slot]!,
        confidence: res.confidence[slot]!,
        expected: trusted ? finiteOrNull(res.expected[slot]!) : null,
        lower: trusted ? finiteOrNull(res.lower[slot]!) : null,
        upper: trusted ? finiteOrNull(res.upper[slot]!) : null,
      };
    }
    scores.length = n;
    const events: EngineEvent[] = res.changes.map((c) => ({
      kind: c.kind,
      engineId: c.event.id,
      streamIds: c.event.streamIds.map(Number).filter((n) => Number.isInteger(n)),
      startMs: c.event.startMs,
      endMs: c.event.endMs,
      peakScore: c.event.peakScore,
      severity: c.event.severity,
      type: c.event.type,
      explanation: { summary: c.event.explanation },
    }));
    return { scores, events: events.filter((e) => e.streamIds.length > 0) };
  }

  health(): StreamHealthOut[] {
    const out: StreamHealthOut[] = [];
    for (const sid of this.engine.streamIds) {
      const h = this.engine.streamHealth(sid);
      const id = Number(sid);
      if (!h || !Number.isInteger(id)) continue;
      out.push({ streamId: id, health: h.health, availability: h.health, gapClass: h.gap === "none" ? null : h.gap });
    }
    return out;
  }

  applyFeedback(streamId: number, label: TAnomalyLabel, startMs: number): void {
    if (!this.engine.hasStream(String(streamId))) return;
    // "expected" (maintenance, deploy) is not a detector error: it is not taught as normal.
    if (label === "expected") return;
    this.engine.applyFeedback(String(streamId), { label: label === "false_positive" ? "false_positive" : "true_positive", atMs: startMs });
  }

  configure(t: EngineTuning): void {
    const o = this.engine.options;
    const sens: Record<string, number> = {};
    for (const [id, m] of t.sensitivity) if (m !== 1) sens[String(id)] = m;
    o.sensitivity = sens;
    o.severity = { ...t.severity };
    o.warmupSteps = t.warmupSteps;
    o.tier2.weight = t.multivariateWeight;
  }

  forecast(streamId: number, horizonMs: number): StreamForecast | null {
    const sid = String(streamId);
    const health = this.engine.streamHealth(sid);
    if (!health || health.health < MIN_FORECAST_HEALTH || !Number.isFinite(this.last)) return null;
    // One step ahead tells us the stream's forecast cadence; then cover the whole horizon.
    const probe = this.engine.forecast(sid, 2);
    const dt = probe.tsMs.length === 2 ? probe.tsMs[1]! - probe.tsMs[0]! : 0;
    if (!(dt > 0)) return null;
    const steps = Math.min(MAX_FORECAST_STEPS, Math.max(1, Math.ceil(horizonMs / dt)));
    const f = this.engine.forecast(sid, steps);
    // The band is ±z·σ·√(1+(k−1)α²): observation noise σ plus the level's growing uncertainty.
    // Predictions compare against an envelope built from past per-minute extremes, which
    // already holds the observation noise, so only the level part (with a small floor) is kept.
    const z = this.engine.options.bandZ;
    const s1 = (f.upper[0]! - f.expected[0]!) / z;
    const sigma = new Float64Array(steps);
    for (let k = 0; k < steps; k++) {
      const sk = (f.upper[k]! - f.expected[k]!) / z;
      sigma[k] = Math.max(0.1 * s1, Math.sqrt(Math.max(0, sk * sk - s1 * s1)));
    }
    return { tsMs: f.tsMs, expected: f.expected, sigma, lower: f.lower, upper: f.upper };
  }

  streamIds(): number[] {
    return this.engine.streamIds.map(Number).filter((n) => Number.isInteger(n));
  }

  serialize(): string {
    return JSON.stringify({ engine: this.engine.serialize(), last: this.last });
  }

  lastStepMs(): number {
    return this.last;
  }
}

export function createEngine(options?: EngineOptionsInput): EnginePort {
  return new EngineAdapter(new DetectionEngine(options));
}

export function restoreEngine(json: string): EnginePort {
  const parsed = JSON.parse(json) as { engine: unknown; last: number };
  return new EngineAdapter(DetectionEngine.restore(parsed.engine), parsed.last ?? -Infinity);
}
