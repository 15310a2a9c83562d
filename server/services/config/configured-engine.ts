/**
 * The worker's engine with saved configuration applied: wraps an EnginePort, pushes tunables
 * into the engine (per-stream sensitivity, engine-wide cut-offs, warm-up, Tier 2 weight, band
 * width) and
 * passes every anomaly event through the gate (lib/config/gate.ts): per-stream severity
 * cut-offs, minimum duration, detectors on/off and mute windows.
 *
 * Not applied by the engine today (stored, shown, and documented as such): per-stream
 * seasonality (the Holt-Winters bank detects the season itself) and the training window.
 */
import { engineCutoffs, gateEvent } from "@/lib/config/gate";
import { DEFAULT_SETTINGS, type EffectiveSettings } from "@/lib/config/settings";
import type { EngineEvent, EnginePort } from "@/lib/detectors/engine-port";
import { canScoreLate, type LateScoring } from "../detection/engine-adapter";

export class ConfiguredEngine implements EnginePort, LateScoring {
  private settings = new Map<number, EffectiveSettings>();
  private global: EffectiveSettings = DEFAULT_SETTINGS;
  /** Events raised to the database so far (a later "closed" must reach it even if now gated). */
  private raised = new Set<string>();
  readonly suppressed = { muted: 0, short: 0, disabled: 0, belowCutoff: 0 };

  constructor(private innerEngine: EnginePort) {}

  get inner(): EnginePort {
    return this.innerEngine;
  }

  /** Replaces the model (snapshot rollback) and re-applies the saved settings to it. */
  swapInner(next: EnginePort): void {
    this.innerEngine = next;
    this.setSettings(this.global, this.settings);
  }

  /** Installs new effective settings (from the config-reload job). */
  setSettings(global: EffectiveSettings, perStream: Map<number, EffectiveSettings>): void {
    this.global = global;
    this.settings = perStream;
    const all = [...perStream.values()];
    const sensitivity = new Map<number, number>();
    for (const [id, s] of perStream) if (s.sensitivity !== 1) sensitivity.set(id, s.sensitivity);
    this.inner.configure?.({
      sensitivity,
      severity: engineCutoffs(all.length ? all : [global], global.severity),
      warmupSteps: global.minTrainingSamples,
      multivariateWeight: global.detectors.multivariate ? 1 : 0,
      bandZ: global.bandSigmas,
    });
  }

  settingsFor(streamId: number): EffectiveSettings {
    return this.settings.get(streamId) ?? this.global;
  }

  private gate(events: EngineEvent[], nowMs: number): EngineEvent[] {
    const out: EngineEvent[] = [];
    for (const e of events) {
      const s = this.settingsFor(e.streamIds[0]!);
      const g = gateEvent({ startMs: e.startMs, endMs: e.kind === "closed" ? e.endMs : null, peakScore: e.peakScore, type: e.type }, s, nowMs);
      if (g.action === "raise") {
        this.raised.add(e.engineId);
        out.push({ ...e, severity: g.severity });
      } else if (this.raised.has(e.engineId) && e.kind === "closed") {
        out.push(e); // close what was already raised
      } else if (g.action === "drop") {
        const k = g.reason === "muted" ? "muted" : g.reason === "too short" ? "short" : g.reason === "below cut-off" ? "belowCutoff" : "disabled";
        this.suppressed[k]++;
      }
      if (e.kind === "closed") this.raised.delete(e.engineId);
    }
    return out;
  }

  hasStream(id: number): boolean {
    return this.inner.hasStream(id);
  }
  addStream(...a: Parameters<EnginePort["addStream"]>): void {
    this.inner.addStream(...a);
    // a stream newer than the last reload scores under the global settings from its first step
    // (not at sensitivity 1 until the next reload: a backfill is scored whole before it)
    const id = a[0];
    if (!this.settings.has(id) && this.global.sensitivity !== 1) {
      this.settings = new Map(this.settings).set(id, this.global);
      this.reconfigure = true;
    }
  }
  private reconfigure = false;
  reserveStreams(count: number, domain = 0): void {
    this.inner.reserveStreams?.(count, domain);
  }
  domainOf(id: number): number {
    return this.inner.domainOf(id);
  }
  historyDomain(beforeMs: number): number {
    return this.inner.historyDomain(beforeMs);
  }
  step(tsMs: number, ids: ArrayLike<number>, values: Float64Array, sampleTs: Float64Array, domain = 0) {
    if (this.reconfigure) {
      this.reconfigure = false;
      this.setSettings(this.global, this.settings);
    }
    const r = this.inner.step(tsMs, ids, values, sampleTs, domain);
    return { scores: r.scores, events: this.gate(r.events, tsMs) };
  }
  /**
   * Late samples are scored on a scratch copy of their streams' models (see
   * `EngineAdapter.scoreLate`); nothing when the inner engine cannot (a test double). Scores are
   * not gated (only events are), so they pass through as `step`'s do.
   */
  scoreLate(...a: Parameters<LateScoring["scoreLate"]>): void {
    if (this.reconfigure) {
      this.reconfigure = false;
      this.setSettings(this.global, this.settings);
    }
    if (canScoreLate(this.inner)) this.inner.scoreLate(...a);
  }
  health() {
    return this.inner.health();
  }
  forgetStreams(ids: readonly number[]): void {
    this.inner.forgetStreams?.(ids);
  }
  applyFeedback(...a: Parameters<EnginePort["applyFeedback"]>): void {
    this.inner.applyFeedback(...a);
  }
  forecast(...a: Parameters<EnginePort["forecast"]>) {
    return this.inner.forecast(...a);
  }
  streamIds(): number[] {
    return this.inner.streamIds();
  }
  probe(...a: Parameters<NonNullable<EnginePort["probe"]>>) {
    return this.inner.probe?.(...a) ?? [];
  }
  serialize(): Uint8Array {
    return this.inner.serialize();
  }
  lastStepMs(domain = 0): number {
    return this.inner.lastStepMs(domain);
  }
}
