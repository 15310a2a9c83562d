/**
 * The worker's engine: `EngineAdapter` binds the pure DetectionEngine to database ids and clock
 * domains. Its parts: the id → slot cache (`slot-cache.ts`), the domains and their saved form
 * (`clock-domains.ts`), scores on scratch copies — probes and late samples — (`scratch-scoring.ts`),
 * forecasts (`stream-forecast.ts`) and the step's score columns (`step-scores.ts`).
 */
import { DetectionEngine, type EngineOptionsInput } from "@/lib/detectors/engine";
import type { EffectiveSettings } from "@/lib/config/settings";
import type { TAnomalyLabel, TStreamKind } from "@/lib/schemas/stream";
import { SettingsGate } from "../config/settings-gate";
import { restoreDomains, saveDomains, type ClockDomain } from "./clock-domains";
import { probeDomains, scoreLateOnCopy, type LateScoreSink, type LateScoring } from "./scratch-scoring";
import { SlotCache } from "./slot-cache";
import { packState, packStateSliced } from "./state-container";
import { emptyScores, MIN_BAND_CONFIDENCE } from "./step-scores";
import { forecastStream } from "./stream-forecast";
import type { EngineEvent, EnginePort, EngineTuning, ProbeResult, StepScores, StreamForecast, StreamHealthOut } from "@/lib/detectors/engine-port";

/**
 * History clock domains at most (see `historyDomain`). A domain costs what its streams cost plus
 * one engine's fixed part, so the cap is about the fixed part. Domains free themselves when they
 * catch up with the live clock (`mergeCaughtUp`): the cap bounds the imports and backfills
 * replaying at once, or held back by a long anomaly.
 */
const MAX_HISTORY_DOMAINS = 32;

/**
 * Binds the pure DetectionEngine (string stream ids, typed-array outputs) to the worker's
 * database ids and row shapes, and keeps the clock domains. With `withSettings` it also applies
 * the saved configuration (`SettingsGate`): its tuning goes into every domain's engine and its
 * gate filters the events a step returns. All detection logic stays in lib/detectors.
 */
class EngineAdapter implements EnginePort, LateScoring {
  private readonly domainOfId = new Map<number, number>();
  private slots = new SlotCache();
  /** The saved configuration, when this is the worker's engine (`withSettings`); null: events pass as the engine raised them. */
  private gate: SettingsGate | null = null;
  /** A stream added since the settings were applied changed the tuning: applied before the next step. */
  private retune = false;

  constructor(private domains: ClockDomain[]) {
    this.index();
  }

  /** Domain and slot of every stream the domains' engines hold. */
  private index(): void {
    this.domains.forEach((d, k) => {
      for (const sid of d.engine.streamIds) {
        const id = Number(sid);
        if (Number.isInteger(id)) this.domainOfId.set(id, k);
      }
      this.slots.refresh(k, d.engine);
    });
  }

  /** Applies the saved configuration from now on: the default settings until `setSettings`. */
  useSettings(): void {
    this.gate ??= new SettingsGate();
  }

  get suppressed(): SettingsGate["suppressed"] {
    return this.gate?.suppressed ?? { muted: 0, short: 0, disabled: 0, belowCutoff: 0 };
  }

  /**
   * Installs new effective settings (from the config-reload job) and tunes the engine with them.
   * `kinds` (each stream's kind as saved) changes the kind of a stream the engine scores as
   * another: a user corrected it, possibly after the snapshot the engine was restored from.
   */
  setSettings(global: EffectiveSettings, perStream: Map<number, EffectiveSettings>, kinds?: ReadonlyMap<number, TStreamKind>): void {
    const gate = (this.gate ??= new SettingsGate());
    gate.set(global, perStream);
    if (kinds) this.applyKinds(kinds);
    this.configure(gate.tuning());
  }

  /** The saved kinds, which a stream added later takes over the one it is added with (read before the change). */
  private savedKinds: ReadonlyMap<number, TStreamKind> = new Map();

  private applyKinds(kinds: ReadonlyMap<number, TStreamKind>): void {
    this.savedKinds = kinds;
    for (const [id, d] of this.domainOfId) {
      const kind = kinds.get(id);
      const engine = this.domains[d]!.engine;
      // restarts the stream's models: what they learnt was of the other kind's values
      if (kind && engine.streamKind(String(id)) !== kind) engine.setKind(String(id), kind);
    }
  }

  /** Takes `next`'s models (snapshot rollback) and re-applies the saved settings to them. */
  replaceState(next: EnginePort): void {
    if (!(next instanceof EngineAdapter)) throw new Error("replaceState: not an engine made by createEngine or restoreEngine");
    this.domains = next.domains;
    this.domainOfId.clear();
    this.slots = new SlotCache();
    this.index();
    if (this.gate) this.configure(this.gate.tuning());
  }

  private retuneIfDue(): void {
    if (!this.retune) return;
    this.retune = false;
    if (this.gate) this.configure(this.gate.tuning());
  }

  private get live(): DetectionEngine {
    return this.domains[0]!.engine;
  }

  private engineOf(id: number): DetectionEngine | null {
    const d = this.domainOfId.get(id);
    return d === undefined ? null : this.domains[d]!.engine;
  }

  hasStream(id: number): boolean {
    return this.domainOfId.has(id);
  }

  domainOf(id: number): number {
    return this.domainOfId.get(id) ?? -1;
  }

  historyDomain(beforeMs: number): number {
    // the history domain with the newest clock still before `beforeMs` (backfills of one source
    // share a domain, so its multivariate models see them together), else a new one
    let best = -1;
    for (let k = 1; k < this.domains.length; k++) {
      const last = this.domains[k]!.last;
      if (last < beforeMs && (best < 0 || last > this.domains[best]!.last)) best = k;
    }
    if (best >= 0) return best;
    // each domain is a whole engine (Tier-2 models included): at the cap, the history domain
    // with the oldest clock, which learns the most of this history (its samples before that
    // clock are scored as late samples, without learning). Not the live clock: a new stream sent
    // with an hour of backlog would learn none of it there, and its next minute would be late too.
    if (this.domains.length > MAX_HISTORY_DOMAINS) {
      let oldest = 1;
      for (let k = 2; k < this.domains.length; k++) if (this.domains[k]!.last < this.domains[oldest]!.last) oldest = k;
      return oldest;
    }
    this.domains.push(this.emptyDomain());
    return this.domains.length - 1;
  }

  /** A history domain with no streams and no clock: the live engine's options, including the applied configuration. */
  private emptyDomain(): ClockDomain {
    return { engine: new DetectionEngine(structuredClone(this.live.options)), last: -Infinity };
  }

  /**
   * Hands the streams of history domains whose clock has caught up with the live one (the live
   * clock at `liveFromMs` or later) to the live engine, with all they learnt: a domain is a whole
   * engine, and one whose streams stayed live would otherwise keep it for good, and its place
   * under the cap (`historyDomain`). A stream in an event, or in a domain with a collective
   * event open, waits for the event to end (its anomaly is that engine's). A domain left empty
   * loses its clock, for later history to reuse.
   */
  mergeCaughtUp(liveFromMs: number): { ids: number[]; domains: number[] } {
    const ids: number[] = [];
    const domains: number[] = [];
    const live = this.domains[0]!;
    if (!(live.last >= liveFromMs)) return { ids, domains };
    for (let k = 1; k < this.domains.length; k++) {
      const d = this.domains[k]!;
      if (d.last < live.last || d.engine.streamIds.length === 0) continue;
      const sids = d.engine.streamIds.filter((sid) => d.engine.canHandOver(sid));
      if (sids.length === 0) continue;
      live.engine.reserveStreams(sids.length);
      for (const sid of sids) {
        live.engine.adoptStream(d.engine, sid);
        const id = Number(sid);
        this.domainOfId.set(id, 0);
        this.slots.set(id, 0, live.engine.streamIndex(sid));
        ids.push(id);
      }
      domains.push(k);
      // the streams left moved to other slots; an emptied domain restarts with no clock
      if (d.engine.streamIds.length === 0) this.domains[k] = this.emptyDomain();
      this.slots.refresh(k, this.domains[k]!.engine);
    }
    if (ids.length && this.gate) this.retune = true;
    return { ids, domains };
  }

  reserveStreams(count: number, domain = 0): void {
    const d = this.domains[domain];
    if (!d) throw new Error(`no clock domain ${domain}`);
    d.engine.reserveStreams(count);
  }

  addStream(id: number, kind: TStreamKind, domain = 0): void {
    const d = this.domains[domain];
    if (!d) throw new Error(`no clock domain ${domain}`);
    const sid = String(id);
    d.engine.addStream(sid, this.savedKinds.get(id) ?? kind);
    this.domainOfId.set(id, domain);
    this.slots.set(id, domain, d.engine.streamIndex(sid));
    if (this.gate?.streamAdded(id)) this.retune = true;
  }

  /** The engine's string id of each database id, made once (a step converts every id). */
  private readonly sids = new Map<number, string>();
  private sid(id: number): string {
    let s = this.sids.get(id);
    if (s === undefined) this.sids.set(id, (s = String(id)));
    return s;
  }

  private out: StepScores = emptyScores(0);
  private slotScratch = new Int32Array(0);

  step(tsMs: number, ids: ArrayLike<number>, values: Float64Array, sampleTs: Float64Array, domain = 0) {
    this.retuneIfDue();
    const d = this.domains[domain];
    if (!d) throw new Error(`no clock domain ${domain}`);
    const engine = d.engine;
    const m = ids.length;
    if (this.slotScratch.length < m) this.slotScratch = new Int32Array(Math.max(m, 2 * this.slotScratch.length));
    const slots = this.slotScratch;
    this.slots.refresh(domain, engine);
    let res;
    if (this.slots.lookup(ids, m, domain, slots) && values.length >= m) {
      res = engine.stepSlots(tsMs, slots, values, m);
    } else {
      // an id this adapter did not add to this domain: the engine's own (string) path decides
      // what to do with it (auto-add or skip), exactly as before slots were cached
      const sids = new Array<string>(m);
      for (let k = 0; k < m; k++) sids[k] = this.sid(ids[k]!);
      res = engine.step(tsMs, sids, values);
      for (let k = 0; k < m; k++) slots[k] = engine.streamIndex(sids[k]!);
    }
    d.last = tsMs;
    if (this.out.at.length < m) this.out = emptyScores(Math.max(m, 2 * this.out.at.length));
    const o = this.out;
    let n = 0;
    for (let k = 0; k < m; k++) {
      const slot = slots[k]!;
      if (slot < 0) continue;
      const conf = res.confidence[slot]!;
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
    // event ids are per engine: the history domains' are prefixed so they cannot collide
    const prefix = domain === 0 ? "" : `d${domain}:`;
    const events: EngineEvent[] = res.changes.map((c) => ({
      kind: c.kind,
      engineId: prefix + c.event.id,
      streamIds: c.event.streamIds.map(Number).filter((n) => Number.isInteger(n)),
      startMs: c.event.startMs,
      endMs: c.event.endMs,
      peakScore: c.event.peakScore,
      severity: c.event.severity,
      type: c.event.type,
      explanation: { summary: c.event.explanation },
    }));
    const mapped = events.filter((e) => e.streamIds.length > 0);
    return { scores, events: this.gate ? this.gate.filter(mapped, tsMs) : mapped };
  }

  health(): StreamHealthOut[] {
    const out: StreamHealthOut[] = [];
    for (const { engine } of this.domains) {
      const sids = engine.streamIds;
      for (let k = 0; k < sids.length; k++) {
        const id = Number(sids[k]);
        if (!Number.isInteger(id)) continue;
        const h = engine.streamHealthAt(k);
        out.push({ streamId: id, health: h.health, availability: h.health, gapClass: h.gap === "none" ? null : h.gap });
      }
    }
    return out;
  }

  forgetStreams(ids: readonly number[]): void {
    for (const id of ids) {
      const d = this.domainOfId.get(id);
      if (d === undefined) continue;
      // the slot cache follows the engine's layout version at the next step
      this.domains[d]!.engine.removeStream(String(id));
      this.domainOfId.delete(id);
    }
  }

  applyFeedback(streamId: number, label: TAnomalyLabel, startMs: number): void {
    const engine = this.engineOf(streamId);
    if (!engine) return;
    // "expected" (maintenance, deploy) is not a detector error: it is not taught as normal.
    if (label === "expected") return;
    engine.applyFeedback(String(streamId), { label: label === "false_positive" ? "false_positive" : "true_positive", atMs: startMs });
  }

  configure(t: EngineTuning): void {
    const sens: Record<string, number> = {};
    for (const [id, m] of t.sensitivity) if (m !== 1) sens[String(id)] = m;
    for (const { engine } of this.domains) {
      const o = engine.options;
      o.sensitivity = { ...sens };
      o.severity = { ...t.severity };
      o.warmupSteps = t.warmupSteps;
      o.tier2.weight = t.multivariateWeight;
      o.bandZ = t.bandZ;
    }
  }

  forecast(streamId: number, horizonMs: number): StreamForecast | null {
    const d = this.domainOfId.get(streamId);
    return d === undefined ? null : forecastStream(this.domains[d]!, streamId, horizonMs);
  }

  streamIds(): number[] {
    return [...this.domainOfId.keys()];
  }

  probe(tsMs: number, ids: readonly number[], values: Float64Array): ProbeResult[] {
    return probeDomains(this.domains, this.domainOfId, tsMs, ids, values);
  }

  /** Late samples: older than their clock domain, which has stepped past them (see `scoreLateOnCopy`); the live state is not changed. */
  scoreLate(domain: number, stepMs: number, ids: Int32Array, values: Float64Array, groupEnds: readonly number[], out: LateScoreSink): void {
    this.retuneIfDue();
    const d = this.domains[domain];
    if (!d || groupEnds.length === 0) return;
    scoreLateOnCopy(d, (id) => this.sid(id), stepMs, ids, values, groupEnds, out);
  }

  serialize(): Uint8Array {
    return packState(saveDomains(this.domains));
  }

  /** `serialize()` with the event loop free between slices of the copy: the engine must not change until it resolves. */
  serializeSliced(): Promise<Uint8Array> {
    return packStateSliced(saveDomains(this.domains));
  }

  lastStepMs(domain = 0): number {
    return this.domains[domain]?.last ?? -Infinity;
  }
}

/** The worker's engine: scores late samples and applies the saved configuration (`withSettings`). */
export interface ConfiguredEngine extends EnginePort, LateScoring {
  reserveStreams(count: number, domain?: number): void;
  forgetStreams(ids: readonly number[]): void;
  setSettings(global: EffectiveSettings, perStream: Map<number, EffectiveSettings>, kinds?: ReadonlyMap<number, TStreamKind>): void;
  /** Events the gate dropped, by reason. */
  readonly suppressed: SettingsGate["suppressed"];
  /** Takes `next`'s models (snapshot rollback) and re-applies the saved settings to them. */
  replaceState(next: EnginePort): void;
}

/**
 * `engine` (made by `createEngine` or `restoreEngine`) with the saved configuration applied from
 * now on: the default settings until `setSettings`, every event through the gate.
 */
export function withSettings(engine: EnginePort): ConfiguredEngine {
  if (!(engine instanceof EngineAdapter)) throw new Error("withSettings: not an engine made by createEngine or restoreEngine");
  engine.useSettings();
  return engine;
}

export function createEngine(options?: EngineOptionsInput): EnginePort {
  return new EngineAdapter([{ engine: new DetectionEngine(options), last: -Infinity }]);
}

/** Restores `serialize()` output (also the formats older snapshots hold: `readSnapshotState` in clock-domains.ts). */
export function restoreEngine(state: Uint8Array | string): EnginePort {
  return new EngineAdapter(restoreDomains(state));
}
