import { DetectionEngine, type EngineOptionsInput } from "@/lib/detectors/engine";
import type { TAnomalyLabel, TStreamKind } from "@/lib/schemas/stream";
import type { EngineEvent, EnginePort, EngineTuning, StepScores, StreamForecast, StreamHealthOut } from "./engine-port";

const MIN_BAND_CONFIDENCE = 0.3;
const MIN_FORECAST_HEALTH = 0.5;
const MAX_FORECAST_STEPS = 2000;

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

  private out: StepScores = emptyScores(0);
  private sidScratch: string[] = [];

  step(tsMs: number, ids: ArrayLike<number>, values: Float64Array, sampleTs: Float64Array) {
    const m = ids.length;
    const sids = this.sidScratch;
    sids.length = m;
    for (let k = 0; k < m; k++) sids[k] = this.sid(ids[k]!);
    const res = this.engine.step(tsMs, sids, values);
    this.last = tsMs;
    if (this.out.at.length < m) this.out = emptyScores(Math.max(m, 2 * this.out.at.length));
    const o = this.out;
    let n = 0;
    for (let k = 0; k < m; k++) {
      const slot = this.engine.streamIndex(sids[k]!);
      if (slot < 0) continue;
      const conf = res.confidence[slot]!;
      // The expected band is only drawn once the model is trusted; warm-up bands are too wide to read.
      const trusted = conf >= MIN_BAND_CONFIDENCE;
      o.at[n] = k;
      o.streamIds[n] = ids[k]!;
      o.tsMs[n] = sampleTs[k]!;
      o.score[n] = res.score[slot]!;
      o.confidence[n] = conf;
      o.expected[n] = trusted ? res.expected[slot]! : Number.NaN;
      o.lower[n] = trusted ? res.lower[slot]! : Number.NaN;
      o.upper[n] = trusted ? res.upper[slot]! : Number.NaN;
      n++;
    }
    o.n = n;
    const scores = o;
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

function emptyScores(capacity: number): StepScores {
  const f = () => new Float64Array(capacity);
  return { n: 0, at: new Int32Array(capacity), streamIds: new Int32Array(capacity), tsMs: f(), score: f(), confidence: f(), expected: f(), lower: f(), upper: f() };
}

export function createEngine(options?: EngineOptionsInput): EnginePort {
  return new EngineAdapter(new DetectionEngine(options));
}

export function restoreEngine(json: string): EnginePort {
  const parsed = JSON.parse(json) as { engine: unknown; last: number };
  return new EngineAdapter(DetectionEngine.restore(parsed.engine), parsed.last ?? -Infinity);
}
