/**
 * The saved configuration as the worker's engine applies it (`withSettings` in
 * server/services/detection/engine-adapter.ts): the tunables pushed into the detectors
 * (per-stream sensitivity, engine-wide cut-offs, warm-up, Tier 2 weight, band width) and the
 * gate (lib/config/gate.ts) every anomaly event passes: per-stream severity cut-offs, minimum
 * duration, detectors on/off and mute windows. Scores are not gated.
 *
 * Not applied by the engine today (stored, shown, and documented as such): per-stream
 * seasonality (the Holt-Winters bank detects the season itself) and the training window.
 */
import { engineCutoffs, gateEvent } from "@/lib/config/gate";
import { DEFAULT_SETTINGS, type EffectiveSettings } from "@/lib/config/settings";
import type { EngineEvent, EngineTuning } from "@/lib/detectors/engine-port";

export class SettingsGate {
  private settings = new Map<number, EffectiveSettings>();
  private global: EffectiveSettings = DEFAULT_SETTINGS;
  /** Events raised to the database so far (a later "closed" must reach it even if now gated). */
  private raised = new Set<string>();
  readonly suppressed = { muted: 0, short: 0, disabled: 0, belowCutoff: 0 };

  /** Installs new effective settings (from the config-reload job). */
  set(global: EffectiveSettings, perStream: Map<number, EffectiveSettings>): void {
    this.global = global;
    this.settings = perStream;
  }

  /** What the engine is tuned with under the current settings. */
  tuning(): EngineTuning {
    const all = [...this.settings.values()];
    const sensitivity = new Map<number, number>();
    for (const [id, s] of this.settings) if (s.sensitivity !== 1) sensitivity.set(id, s.sensitivity);
    return {
      sensitivity,
      severity: engineCutoffs(all.length ? all : [this.global], this.global.severity),
      warmupSteps: this.global.minTrainingSamples,
      multivariateWeight: this.global.detectors.multivariate ? 1 : 0,
      bandZ: this.global.bandSigmas,
    };
  }

  settingsFor(streamId: number): EffectiveSettings {
    return this.settings.get(streamId) ?? this.global;
  }

  /**
   * A stream newer than the last reload scores under the global settings from its first step
   * (not at sensitivity 1 until the next reload: a backfill is scored whole before it). True
   * when that changes the tuning, which the engine then applies before its next step.
   */
  streamAdded(id: number): boolean {
    if (this.settings.has(id) || this.global.sensitivity === 1) return false;
    this.settings = new Map(this.settings).set(id, this.global);
    return true;
  }

  /**
   * The events that pass the stream's settings, re-graded by its own severity cut-offs. An event
   * of several streams (collective) loses those whose detection is disabled (archived streams
   * among them): it is judged by the first that remains, and dropped when none does.
   */
  filter(events: EngineEvent[], nowMs: number): EngineEvent[] {
    const out: EngineEvent[] = [];
    for (const raw of events) {
      const e = this.withoutDisabled(raw);
      if (!e) {
        // (one raised before its streams were disabled still closes)
        if (raw.kind === "closed" && this.raised.delete(raw.engineId)) out.push(raw);
        else this.suppressed.disabled++;
        continue;
      }
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

  /** `e` without its streams whose detection is disabled; null when it had several and none is left. */
  private withoutDisabled(e: EngineEvent): EngineEvent | null {
    if (e.streamIds.length < 2 || e.streamIds.every((id) => this.settingsFor(id).enabled)) return e;
    const kept = e.streamIds.filter((id) => this.settingsFor(id).enabled);
    return kept.length ? { ...e, streamIds: kept } : null;
  }
}
