import v8 from "node:v8";
import { isRecord, StateError } from "@/lib/detectors/codec";
import { DetectionEngine, type EngineOptionsInput } from "@/lib/detectors/engine";
import type { EffectiveSettings } from "@/lib/config/settings";
import type { TAnomalyLabel, TStreamKind } from "@/lib/schemas/stream";
import { SettingsGate } from "../config/settings-gate";
import { isPackedState, packState, packStateSliced, unpackState } from "./state-container";
import type { EngineEvent, EnginePort, EngineTuning, ProbeResult, StepScores, StreamForecast, StreamHealthOut } from "@/lib/detectors/engine-port";

const MIN_BAND_CONFIDENCE = 0.3;
const MIN_FORECAST_HEALTH = 0.5;
const MAX_FORECAST_STEPS = 2000;
const MAX_HISTORY_DOMAINS = 8;

/**
 * One engine and its clock. Streams whose history arrives after the live engine has moved past
 * it (a pull source's backfill, a CSV import of last month) get an engine of their own that
 * steps through that history in time order, learning from it, and then follows live data on its
 * own clock. Domain 0 is the live one; each domain's Tier-2 models see only its own streams.
 */
interface Domain {
  engine: DetectionEngine;
  last: number;
}

/**
 * Engine slot of each database id, for `DetectionEngine.stepSlots`: a typed-array read per point
 * instead of converting ids to strings and looking them up in the engine's Map. Valid for the
 * engine layout it was read under (`layoutVersion`); ids are dense serials, so an array indexed
 * by id stays small.
 */
class SlotCache {
  /** domain + 1 per id (0: unknown) and the slot in that domain's engine */
  private dom = new Int16Array(0);
  private slot = new Int32Array(0);
  private readonly layouts: number[] = [];

  set(id: number, domain: number, slot: number): void {
    if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff || slot < 0) return;
    if (id >= this.dom.length) {
      const cap = Math.max(1024, 2 * id + 2);
      const dom = new Int16Array(cap);
      dom.set(this.dom);
      const sl = new Int32Array(cap);
      sl.set(this.slot);
      this.dom = dom;
      this.slot = sl;
    }
    this.dom[id] = domain + 1;
    this.slot[id] = slot;
  }

  /** Slots of `ids` in `domain` into `out`; false when any id is not cached there. */
  lookup(ids: ArrayLike<number>, m: number, domain: number, out: Int32Array): boolean {
    const dom = this.dom;
    const slot = this.slot;
    const want = domain + 1;
    for (let k = 0; k < m; k++) {
      const id = ids[k]!;
      // `dom[id]` is undefined for ids out of range (and non-integers): not cached
      if (dom[id] !== want) return false;
      out[k] = slot[id]!;
    }
    return true;
  }

  /** Re-reads every slot of `domain` when its engine's layout moved since they were cached. */
  refresh(domain: number, engine: DetectionEngine): void {
    if (this.layouts[domain] === engine.layoutVersion) return;
    this.layouts[domain] = engine.layoutVersion;
    for (let id = 0; id < this.dom.length; id++) if (this.dom[id] === domain + 1) this.dom[id] = 0;
    engine.streamIds.forEach((sid, k) => {
      const id = Number(sid);
      if (String(id) === sid) this.set(id, domain, k); // ids the adapter made ("7", never "007")
    });
  }
}

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

  constructor(private domains: Domain[]) {
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

  /** Installs new effective settings (from the config-reload job) and tunes the engine with them. */
  setSettings(global: EffectiveSettings, perStream: Map<number, EffectiveSettings>): void {
    const gate = (this.gate ??= new SettingsGate());
    gate.set(global, perStream);
    this.configure(gate.tuning());
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
    // each domain is a whole engine (Tier-2 models included): past the cap, history streams join
    // the live clock, where their old samples are stored but not scored
    if (this.domains.length > MAX_HISTORY_DOMAINS) return 0;
    // same options as the live engine, including the applied configuration
    const engine = new DetectionEngine(structuredClone(this.live.options));
    this.domains.push({ engine, last: -Infinity });
    return this.domains.length - 1;
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
    d.engine.addStream(sid, kind);
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
    if (d === undefined) return null;
    const { engine, last } = this.domains[d]!;
    const sid = String(streamId);
    const health = engine.streamHealth(sid);
    if (!health || health.health < MIN_FORECAST_HEALTH || !Number.isFinite(last)) return null;
    // One step ahead tells us the stream's forecast cadence; then cover the whole horizon.
    const probe = engine.forecast(sid, 2);
    const dt = probe.tsMs.length === 2 ? probe.tsMs[1]! - probe.tsMs[0]! : 0;
    if (!(dt > 0)) return null;
    const steps = Math.min(MAX_FORECAST_STEPS, Math.max(1, Math.ceil(horizonMs / dt)));
    const f = engine.forecast(sid, steps);
    // The band is ±z·σ·√(1+(k−1)α²): observation noise σ plus the level's growing uncertainty.
    // Predictions compare against an envelope built from past per-minute extremes, which
    // already holds the observation noise, so only the level part (with a small floor) is kept.
    const z = engine.options.bandZ;
    const s1 = (f.upper[0]! - f.expected[0]!) / z;
    const sigma = new Float64Array(steps);
    for (let k = 0; k < steps; k++) {
      const sk = (f.upper[k]! - f.expected[k]!) / z;
      sigma[k] = Math.max(0.1 * s1, Math.sqrt(Math.max(0, sk * sk - s1 * s1)));
    }
    return { tsMs: f.tsMs, expected: f.expected, sigma, lower: f.lower, upper: f.upper };
  }

  streamIds(): number[] {
    return [...this.domainOfId.keys()];
  }

  probe(tsMs: number, ids: readonly number[], values: Float64Array): ProbeResult[] {
    const byDomain = new Map<number, number[]>();
    ids.forEach((id, k) => {
      const d = this.domainOfId.get(id);
      if (d === undefined) return;
      let ks = byDomain.get(d);
      if (!ks) byDomain.set(d, (ks = []));
      ks.push(k);
    });
    const out: ProbeResult[] = [];
    for (const [d, ks] of byDomain) {
      const { engine, last } = this.domains[d]!;
      const sids = ks.map((k) => String(ids[k]!));
      const copy = engine.extract(sids);
      // a model cannot step back in time: a value older than its clock is scored as its next point
      const t = Number.isFinite(last) && last > tsMs ? last : tsMs;
      const res = copy.step(t, sids, Float64Array.from(ks, (k) => values[k]!));
      ks.forEach((k, j) => {
        const slot = copy.streamIndex(sids[j]!);
        if (slot < 0) return;
        const trusted = res.confidence[slot]! >= MIN_BAND_CONFIDENCE;
        const anomalous = res.isAnomaly[slot] === 1;
        const num = (x: number) => (trusted && Number.isFinite(x) ? x : null);
        out.push({
          streamId: ids[k]!,
          tsMs: t,
          score: Number.isFinite(res.score[slot]!) ? res.score[slot]! : 0,
          confidence: Number.isFinite(res.confidence[slot]!) ? res.confidence[slot]! : 0,
          isAnomaly: anomalous,
          severity: res.severity[slot] ?? null,
          type: res.type[slot] ?? (anomalous ? "point" : null),
          expected: num(res.expected[slot]!),
          lower: num(res.lower[slot]!),
          upper: num(res.upper[slot]!),
          sigma: num((res.upper[slot]! - res.expected[slot]!) / copy.options.bandZ),
        });
      });
    }
    return out;
  }

  /**
   * Late samples: older than their clock domain, which has stepped past them. They are scored on
   * a scratch copy of their streams' models (`DetectionEngine.extract`), stepped through them in
   * the given order (time order: the copy learns from each before the next), one copy step per
   * group (`groupEnds[g]` ends group g; a stream occurs at most once in a group). The copy steps
   * on from the live clock by `stepMs` per group, since a model cannot step back in time; it is then dropped, so the
   * live state is not changed. `out` receives row k's score (bands NaN while not trusted);
   * rows of streams the engine does not have are left out.
   */
  scoreLate(domain: number, stepMs: number, ids: Int32Array, values: Float64Array, groupEnds: readonly number[], out: LateScoreSink): void {
    this.retuneIfDue();
    const d = this.domains[domain];
    if (!d || groupEnds.length === 0) return;
    const sids = new Set<string>();
    const n = groupEnds[groupEnds.length - 1]!;
    for (let k = 0; k < n; k++) sids.add(this.sid(ids[k]!));
    const copy = d.engine.extract([...sids]);
    let t = Number.isFinite(d.last) ? d.last : 0;
    let from = 0;
    for (const end of groupEnds) {
      t += stepMs;
      const group = new Array<string>(end - from);
      for (let k = from; k < end; k++) group[k - from] = this.sid(ids[k]!);
      const res = copy.step(t, group, values.subarray(from, end));
      for (let k = from; k < end; k++) {
        const slot = copy.streamIndex(group[k - from]!);
        if (slot < 0) continue;
        const conf = res.confidence[slot]!;
        const trusted = conf >= MIN_BAND_CONFIDENCE;
        out(k, res.score[slot]!, conf, trusted ? res.expected[slot]! : Number.NaN, trusted ? res.lower[slot]! : Number.NaN, trusted ? res.upper[slot]! : Number.NaN);
      }
      from = end;
    }
  }

  serialize(): Uint8Array {
    return packState(this.binaryState());
  }

  /** `serialize()` with the event loop free between slices of the copy: the engine must not change until it resolves. */
  serializeSliced(): Promise<Uint8Array> {
    return packStateSliced(this.binaryState());
  }

  /** The state with its columns as views of the live arrays (see `ColumnForm`): to be packed before the engine changes. */
  private binaryState(): Serialized {
    // domain 0 in the original fields: snapshots from before clock domains restore as domain 0
    const [live, ...history] = this.domains;
    return {
      engine: live!.engine.serialize("binary"),
      last: live!.last,
      history: history.map((d) => ({ engine: d.engine.serialize("binary"), last: d.last })),
    };
  }

  lastStepMs(domain = 0): number {
    return this.domains[domain]?.last ?? -Infinity;
  }
}

/** Receives one late sample's score (see `scoreLate`). */
export type LateScoreSink = (row: number, score: number, confidence: number, expected: number, lower: number, upper: number) => void;

/** An engine that can score late samples (the adapter; test doubles of `EnginePort` need not). */
export interface LateScoring {
  scoreLate(domain: number, stepMs: number, ids: Int32Array, values: Float64Array, groupEnds: readonly number[], out: LateScoreSink): void;
}

export function canScoreLate(e: EnginePort): e is EnginePort & LateScoring {
  return typeof (e as Partial<LateScoring>).scoreLate === "function";
}

/** The worker's engine: scores late samples and applies the saved configuration (`withSettings`). */
export interface ConfiguredEngine extends EnginePort, LateScoring {
  reserveStreams(count: number, domain?: number): void;
  forgetStreams(ids: readonly number[]): void;
  setSettings(global: EffectiveSettings, perStream: Map<number, EffectiveSettings>): void;
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

function emptyScores(capacity: number): StepScores {
  const f = () => new Float64Array(capacity);
  return { n: 0, at: new Int32Array(capacity), streamIds: new Int32Array(capacity), tsMs: f(), score: f(), confidence: f(), expected: f(), lower: f(), upper: f() };
}

export function createEngine(options?: EngineOptionsInput): EnginePort {
  return new EngineAdapter([{ engine: new DetectionEngine(options), last: -Infinity }]);
}

type Serialized = { engine: unknown; last: number; history: { engine: unknown; last: number }[] };
// JSON turns -Infinity into null
const clock = (x: unknown) => (typeof x === "number" ? x : -Infinity);

/** `{`: a snapshot written as JSON text, before snapshots were V8-serialised. */
const JSON_OPEN_BRACE = 0x7b;

/**
 * The saved state in a snapshot's bytes: the binary container (state-container.ts), or an
 * older snapshot's V8 serialisation or JSON text (columns as base64, which restore reads too).
 */
export function readSnapshotState(state: Uint8Array | string): unknown {
  if (typeof state === "string") return JSON.parse(state);
  if (isPackedState(state)) return unpackState(state);
  if (state[0] === JSON_OPEN_BRACE) return JSON.parse(Buffer.from(state.buffer, state.byteOffset, state.byteLength).toString("utf8"));
  return v8.deserialize(state);
}

/** Restores `serialize()` output (also the formats older snapshots hold, see `readSnapshotState`). */
export function restoreEngine(state: Uint8Array | string): EnginePort {
  const saved = readSnapshotState(state);
  if (!isRecord(saved)) throw new StateError("snapshot: not an engine state");
  const history = saved.history ?? [];
  if (!Array.isArray(history)) throw new StateError("snapshot: history must be an array");
  const domains = [saved, ...history].map((d: unknown): Domain => {
    if (!isRecord(d)) throw new StateError("snapshot: a clock domain is not an object");
    return { engine: DetectionEngine.restore(d.engine), last: clock(d.last) };
  });
  return new EngineAdapter(domains);
}
