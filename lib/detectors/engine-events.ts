/**
 * The engine's anomaly events: consecutive anomalous steps of one key (a stream, its gaps, or
 * the multivariate score) grow into an event that opens once it has lasted `minAnomalySteps`
 * (or at once for an extreme point), escalates in severity and peak, is typed from the shape of
 * its points, and closes after `mergeGapSteps` quiet steps. Opened, updated and closed events
 * are reported as the step's changes.
 *
 * Open events are plain data (they serialise as they are); a per-slot flag array mirrors which
 * are open so the per-stream check each step is a byte read, not a string key and a Map probe.
 */
import { ND, TIER1_DETECTORS } from "./engine-layout";
import { getBoolean, getNumber, getNumbers, getObject, getOneOf, getString, getStrings, isRecord, StateError } from "./codec";
import type { EngineOptions } from "./options";
import { ANOMALY_TYPES, SEVERITIES, type AnomalyEvent, type AnomalyType, type EventChange, type GapClass, type Severity } from "./types";

/** Key suffix of a stream's gap events (`x:gap` may also be a stream of that name). */
export const GAP_SUFFIX = ":gap";
export const MV_KEY = "__multivariate__";
/** Flags per slot: a point event (key `id`) is open, a gap event (key `id:gap`) is open. */
export const EV_POINT = 1;
export const EV_GAP = 2;

/** An event as reported plus its bookkeeping (one per key; plain data so it serialises as is). */
export interface OpenEvent extends AnomalyEvent {
  key: string;
  emitted: boolean;
  pending: number;
  quiet: number;
  nPts: number;
  nPos: number;
  nNeg: number;
  contextual: number;
  /** raw z at peak per detector */
  peakZ: number[];
}

/** Where the book finds a stream's slot (the engine's own lookup: slots move on removal). */
export interface StreamSlots {
  streamIndex(id: string): number;
  readonly streamIds: readonly string[];
}

type PeakRecord = { peakZ: number[] };

const SEV_ORDER: Record<Severity, number> = { low: 1, medium: 2, high: 3 };

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}

function publicEvent(e: OpenEvent): AnomalyEvent {
  return {
    id: e.id,
    streamIds: e.streamIds.slice(),
    startMs: e.startMs,
    endMs: e.endMs,
    peakScore: e.peakScore,
    severity: e.severity,
    type: e.type,
    explanation: e.explanation,
  };
}

/**
 * Gives a collective event, before it is emitted, an id of its own: `MV_KEY:<first stream>@<start>`.
 * The stores key anomalies by event id, and every engine (a clock domain, a scale-out partition)
 * has its collective event under the one key, so two engines opening one at the same time would
 * otherwise write one anomaly row; a stream belongs to one engine at a time.
 */
export function nameCollective(ev: OpenEvent): void {
  if (!ev.emitted && ev.streamIds.length > 0) ev.id = `${MV_KEY}:${ev.streamIds[0]}@${ev.startMs}`;
}

export function newEvent(key: string, streamIds: string[], tsMs: number, type: AnomalyType): OpenEvent {
  return {
    id: `${key}@${tsMs}`,
    key,
    streamIds,
    startMs: tsMs,
    endMs: tsMs,
    peakScore: 0,
    severity: "low",
    type,
    explanation: "",
    emitted: false,
    pending: 0,
    quiet: 0,
    nPts: 0,
    nPos: 0,
    nNeg: 0,
    contextual: 0,
    peakZ: [0, 0, 0, 0],
  };
}

function classify(e: OpenEvent, seasonal: boolean): AnomalyType {
  const n = e.nPts;
  const dominant = Math.max(e.nPos, e.nNeg) / Math.max(1, e.nPos + e.nNeg);
  if (n >= 5) {
    if (seasonal && e.contextual >= 0.6 * n) return "seasonal";
    if (dominant >= 0.9) return "trend";
    return "collective";
  }
  if (seasonal && e.contextual >= 0.5 * n) return "contextual";
  return "point";
}

/**
 * One anomalous point of a stream's event: its direction, whether only the season-aware detector
 * (z at `z[zo + 1]`) or the season break saw it, the detectors' z at a new peak (for feedback),
 * and the type these imply. `signed`: actual − expected.
 */
export function notePoint(ev: OpenEvent, newPeak: boolean, signed: number, z: Float64Array, zo: number, seasonal: boolean, seasonBreak = false): void {
  if (signed > 0) ev.nPos++;
  else ev.nNeg++;
  const zR = z[zo]!;
  const zH = z[zo + 1]!;
  if (seasonal && ((zH >= 3 && zR < 3) || seasonBreak)) ev.contextual++;
  if (newPeak) for (let k = 0; k < ND; k++) ev.peakZ[k] = z[zo + k]!;
  ev.type = classify(ev, seasonal);
}

/** What a point event says: the detectors that fired (z ≥ 3), a record, and the band it left. */
export function pointExplanation(
  type: AnomalyType,
  id: string,
  z: Float64Array,
  zo: number,
  shapes: { record: number; seasonBreak: number },
  band: { expected: number; lower: number; upper: number },
  x: number,
  rate: boolean,
): string {
  const fired: string[] = [];
  for (let k = 0; k < ND; k++) {
    const zk = z[zo + k]!;
    if (zk >= 3) fired.push(`${TIER1_DETECTORS[k]} ${zk.toFixed(1)}σ`);
  }
  if (shapes.record > 0) fired.push(`record: ${shapes.record.toFixed(1)}× the largest deviation seen`);
  if (shapes.seasonBreak > 0) fired.push(`season break: far outside this time of day on each of the last days by ${shapes.seasonBreak.toFixed(1)}× its usual deviation`);
  return (
    `${type} anomaly on ${id}: ${fired.length ? fired.join(", ") : "sustained moderate deviation"}; ` +
    `expected ${fmt(band.expected)} [${fmt(band.lower)}, ${fmt(band.upper)}], actual ${fmt(x)}` +
    (rate ? " (rate/s)" : "")
  );
}

/**
 * A point event's explanation once its type has changed (a point that went on to be a trend):
 * the same text under the new type, so the page's heading and the text agree.
 */
export function retypeExplanation(text: string, type: AnomalyType): string {
  const at = text.indexOf(" anomaly on ");
  return at < 0 ? text : `${type}${text.slice(at)}`;
}

export function gapExplanation(id: string, gap: GapClass, silentMs: number, intervalMs: number): string {
  return `gap on ${id}: ${gap} (no data for ${fmt(silentMs / 60_000)} min, usually every ${fmt(intervalMs / 1000)} s)`;
}

export function multivariateExplanation(score: number, streamIds: readonly string[]): string {
  return `multivariate (half-space trees + isolation forest) score ${score.toFixed(0)}: joint behaviour of ${streamIds.length ? streamIds.join(", ") : "streams"} is unusual`;
}

export function pairExplanation(score: number, streamIds: readonly string[]): string {
  return `${streamIds.slice(0, 2).join(" and ")} are anomalous at the same time, rarer together than either alone (joint score ${score.toFixed(0)})${streamIds.length > 2 ? `; also scoring: ${streamIds.slice(2).join(", ")}` : ""}`;
}

export function breadthExplanation(score: number, moved: number, streamIds: readonly string[]): string {
  return `${moved} streams moved unusually at once, rarely seen together on this table (breadth score ${score.toFixed(0)}): ${streamIds.join(", ")}${moved > streamIds.length ? ", …" : ""}`;
}

/** A saved open event, every field checked. */
function readOpenEvent(v: unknown): OpenEvent {
  if (!isRecord(v)) throw new StateError("engine: an event is not an object");
  return {
    id: getString(v, "id"),
    key: getString(v, "key"),
    streamIds: getStrings(v, "streamIds"),
    startMs: getNumber(v, "startMs"),
    endMs: getNumber(v, "endMs"),
    peakScore: getNumber(v, "peakScore"),
    severity: getOneOf(v, "severity", SEVERITIES),
    type: getOneOf(v, "type", ANOMALY_TYPES),
    explanation: getString(v, "explanation"),
    emitted: getBoolean(v, "emitted"),
    pending: getNumber(v, "pending"),
    quiet: getNumber(v, "quiet"),
    nPts: getNumber(v, "nPts"),
    nPos: getNumber(v, "nPos"),
    nNeg: getNumber(v, "nNeg"),
    contextual: getNumber(v, "contextual"),
    peakZ: getNumbers(v, "peakZ"),
  };
}

function copyEvent(e: OpenEvent, streamIds: string[]): OpenEvent {
  return { ...e, streamIds, peakZ: e.peakZ.slice() };
}

export class EventBook {
  private events = new Map<string, OpenEvent>();
  /** Per slot, the EV_* flags of the stream's open events (mirrors `events`). */
  flags = new Uint8Array(4);
  /** Each key's last closed excursion, for feedback (also excursions too short to open an event). */
  private lastPeak = new Map<string, PeakRecord>();
  /** The current step's changes (the engine hands out a fresh array per step). */
  changes: EventChange[] = [];

  constructor(
    private readonly o: EngineOptions,
    private readonly slots: StreamSlots,
  ) {}

  /** Room for flags of n slots. */
  reserve(n: number): void {
    if (this.flags.length >= n) return;
    const grown = new Uint8Array(Math.max(n, 2 * this.flags.length));
    grown.set(this.flags);
    this.flags = grown;
  }

  /** Stream `id` now has slot i (an event of that key may already be open: `x:gap` is x's and stream "x:gap"'s). */
  added(i: number, id: string): void {
    this.reserve(i + 1);
    this.flags[i] = this.flagsOf(id);
  }

  /** Stream `id` at slot i is gone and the stream at slot `last` moved into i (slots already updated). */
  removed(id: string, i: number, last: number): void {
    this.events.delete(id);
    this.events.delete(`${id}${GAP_SUFFIX}`);
    this.flags[i] = this.flags[last]!;
    this.flags[last] = 0;
    // the deleted keys may also be another stream's (`x:gap` is stream "x:gap" and x's gap)
    this.sync(id);
    this.sync(`${id}${GAP_SUFFIX}`);
    this.lastPeak.delete(id);
  }

  /**
   * Generic open/extend/close logic for key `key` at one step; `onPoint` refreshes the event's
   * type and explanation (`newPeak`: this point is its highest score yet).
   */
  advance(
    key: string,
    anomalous: boolean,
    tsMs: number,
    score: number,
    sev: Severity | null,
    make: () => OpenEvent,
    extreme: boolean,
    onPoint: ((e: OpenEvent, newPeak: boolean) => void) | null,
  ): OpenEvent | undefined {
    const o = this.o;
    let e = this.events.get(key);
    if (anomalous && sev !== null) {
      if (!e) {
        e = make();
        this.events.set(key, e);
        this.sync(key);
      }
      this.count(e, tsMs);
      const newPeak = score > e.peakScore;
      let changed = false;
      if (newPeak) {
        e.peakScore = score;
        changed = true;
      }
      if (SEV_ORDER[sev] > SEV_ORDER[e.severity]) {
        e.severity = sev;
        changed = true;
      }
      const prevType = e.type;
      onPoint?.(e, newPeak);
      if (e.type !== prevType) changed = true;
      if (!e.emitted && (e.pending >= o.minAnomalySteps || score > o.singlePointScore || extreme)) this.open(e);
      else if (e.emitted && changed) {
        this.changes.push({ kind: "updated", event: publicEvent(e) });
      }
      return e;
    }
    if (e) {
      e.quiet++;
      // a pending (not yet opened) excursion survives short quiet gaps too: minAnomalySteps
      // anomalous points within one merge window open it (bursty anomalies, variance changes)
      if (e.quiet > o.mergeGapSteps) {
        if (e.emitted) this.changes.push({ kind: "closed", event: publicEvent(e) });
        this.lastPeak.set(key, { peakZ: e.peakZ.slice() });
        this.events.delete(key);
        this.sync(key);
        return undefined;
      }
    }
    return e;
  }

  /**
   * Whether `key` has an excursion that has not opened yet (waiting for `minAnomalySteps`) and,
   * when `signed` (a point's deviation from its expected value) is not 0, on that side; when
   * `adjacent`, only if its last point was the previous step (no quiet step since).
   */
  pending(key: string, signed = 0, adjacent = false): boolean {
    const e = this.events.get(key);
    if (e === undefined || e.emitted || (adjacent && e.quiet > 0)) return false;
    return signed === 0 || (signed > 0) === (e.nPos >= e.nNeg);
  }

  /**
   * A point of `key`'s waiting excursion that is not anomalous by its score but confirms it
   * (`confirmEvidence`): counts towards `minAnomalySteps` like an anomalous one, without
   * changing the peak or severity. The caller has checked `pending(key)`.
   */
  confirm(key: string, tsMs: number): OpenEvent {
    const e = this.events.get(key)!;
    this.count(e, tsMs);
    if (e.pending >= this.o.minAnomalySteps) this.open(e);
    return e;
  }

  /** One more point of excursion `e` at `tsMs` (anomalous, or confirming it). */
  private count(e: OpenEvent, tsMs: number): void {
    e.quiet = 0;
    e.pending++;
    e.endMs = tsMs;
    e.nPts++;
  }

  private open(e: OpenEvent): void {
    e.emitted = true;
    this.changes.push({ kind: "opened", event: publicEvent(e) });
  }

  /** Whether stream `id` has an event open or pending here (its own or its gap's). */
  tracks(id: string): boolean {
    return this.events.has(id) || this.events.has(`${id}${GAP_SUFFIX}`);
  }

  /** Whether a collective event is open or pending. */
  get collectiveOpen(): boolean {
    return this.events.has(MV_KEY);
  }

  /** Takes over stream `id`'s last closed excursions from `src` (the stream moved here). */
  adoptPeaks(src: EventBook, id: string): void {
    for (const key of [id, `${id}${GAP_SUFFIX}`]) {
      const lp = src.lastPeak.get(key);
      if (lp) this.lastPeak.set(key, { peakZ: lp.peakZ.slice() });
    }
  }

  /** Detector z at the peak of stream `id`'s open event, else of its last excursion. */
  peakOf(id: string): PeakRecord | undefined {
    return this.events.get(id) ?? this.lastPeak.get(id);
  }

  /** Currently open (emitted) events. */
  openEvents(): AnomalyEvent[] {
    const r: AnomalyEvent[] = [];
    for (const e of this.events.values()) if (e.emitted) r.push(publicEvent(e));
    return r;
  }

  /** The EV_* flags of stream `id` as `events` holds them. */
  private flagsOf(id: string): number {
    return (this.events.has(id) ? EV_POINT : 0) | (this.events.has(`${id}${GAP_SUFFIX}`) ? EV_GAP : 0);
  }

  /** After `events` gained or lost `key`: the flags of the streams that key belongs to. */
  private sync(key: string): void {
    const i = this.slots.streamIndex(key);
    if (i >= 0) this.flags[i] = this.flagsOf(key);
    if (key.endsWith(GAP_SUFFIX)) {
      const j = this.slots.streamIndex(key.slice(0, -GAP_SUFFIX.length));
      if (j >= 0) this.flags[j] = this.flagsOf(this.slots.streamIds[j]!);
    }
  }

  /** The book's keys of a saved engine state (copies). */
  serialize(): { events: OpenEvent[]; lastPeak: Record<string, PeakRecord> } {
    const events: OpenEvent[] = [];
    for (const e of this.events.values()) events.push(copyEvent(e, e.streamIds.slice()));
    return { events, lastPeak: Object.fromEntries(this.lastPeak) };
  }

  /** `serialize()` of streams `keep` only (their point and gap events; no multivariate one). */
  serializeStreams(keep: readonly string[]): { events: OpenEvent[]; lastPeak: Record<string, PeakRecord> } {
    const seen = new Set(keep);
    const events: OpenEvent[] = [];
    const lastPeak: Record<string, PeakRecord> = {};
    for (const id of keep) {
      for (const key of [id, `${id}${GAP_SUFFIX}`]) {
        const e = this.events.get(key);
        if (e && e.key !== MV_KEY) events.push(copyEvent(e, e.streamIds.filter((x) => seen.has(x))));
        const lp = this.lastPeak.get(key);
        if (lp) lastPeak[key] = { peakZ: lp.peakZ.slice() };
      }
    }
    return { events, lastPeak };
  }

  /** Reads the book's keys of a saved engine state `s`, for streams `ids` in slot order. */
  load(s: Record<string, unknown>, ids: readonly string[]): void {
    if (!Array.isArray(s.events)) throw new StateError("engine: events must be an array");
    for (const v of s.events) {
      const ev = readOpenEvent(v);
      this.events.set(ev.key, ev);
    }
    const n = ids.length;
    this.flags = new Uint8Array(Math.max(4, n));
    for (let i = 0; i < n; i++) this.flags[i] = this.flagsOf(ids[i]!);
    const lp = getObject(s, "lastPeak");
    for (const [k, v] of Object.entries(lp)) {
      if (!isRecord(v)) throw new StateError("engine: a last peak is not an object");
      this.lastPeak.set(k, { peakZ: getNumbers(v, "peakZ") });
    }
  }
}
