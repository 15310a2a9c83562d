/**
 * The engine's saved state: one JSON-safe object (kind + version envelope) holding the options,
 * the stream ids in slot order, the per-stream columns, every bank, the calibrator, Tier 2 and
 * the open events. Each part writes and reads its own keys; this module fixes their order (a
 * state saved twice is the same text) and upgrades what older states lack.
 *
 * Upgrades: a state saved before a detector existed (no `cu`, `cc`, `fl`, `vs`, `sb`, `lk`, `nv`
 * or `rec`) restores that detector fresh for every stream, so old snapshots keep loading.
 */
import { ArRlsBank } from "./ar-rls";
import { TailCalibrator } from "./calibration";
import { checkEnvelope, getNumber, StateError, type ColumnForm, type EncodedColumn } from "./codec";
import { ContextNoveltyBank } from "./context-novelty";
import { CountCusumBank } from "./count-cusum";
import { ND } from "./engine-layout";
import { FlatlineBank } from "./flatline";
import { GapTracker } from "./gaps";
import { HoltWintersBank } from "./holt-winters";
import type { EngineOptions } from "./options";
import { QuantileFilterBank } from "./quantile-filter";
import { RecordBank } from "./record";
import { RobustZBank } from "./robust-z";
import { ScoreLikelihoodBank } from "./score-likelihood";
import { ShiftCusumBank } from "./shift-cusum";
import { SeasonBreakBank } from "./season-break";
import { VarianceShiftBank } from "./variance-shift";

export const ENGINE_KIND = "omen-detection-engine";
export const ENGINE_VERSION = 1;

/** The engine's per-stream banks, under their keys in the state (in the state's order). */
export interface EngineBanks {
  rz: RobustZBank;
  hw: HoltWintersBank;
  ar: ArRlsBank;
  qf: QuantileFilterBank;
  cu: ShiftCusumBank;
  cc: CountCusumBank;
  fl: FlatlineBank;
  vs: VarianceShiftBank;
  sb: SeasonBreakBank;
  lk: ScoreLikelihoodBank;
  nv: ContextNoveltyBank;
  rec: RecordBank;
  gaps: GapTracker;
}

export type EngineState = Record<string, unknown> & { kind: string; version: number };

/** The parts of an engine state, each already in its saved form. */
export interface EngineStateParts {
  options: EngineOptions;
  ids: string[];
  streams: Record<string, EncodedColumn>;
  banks: Record<keyof EngineBanks, unknown>;
  cal: unknown;
  tier2: Record<"hst" | "iforest" | "mv", unknown>;
  events: Record<"events" | "lastPeak", unknown>;
  /** −Infinity before the first step. */
  lastTs: number;
  steps: number;
}

interface SavedBank {
  serialize(form: ColumnForm): unknown;
  serializeSlots(slots: ArrayLike<number>): unknown;
}

/**
 * Every bank's saved form, columns in `form`; with `slots`, of those streams only (in that
 * order, as in-memory copies).
 */
export function saveBanks(b: EngineBanks, slots?: ArrayLike<number>, form: ColumnForm = "text"): Record<keyof EngineBanks, unknown> {
  const save = (x: SavedBank): unknown => (slots ? x.serializeSlots(slots) : x.serialize(form));
  return {
    rz: save(b.rz),
    hw: save(b.hw),
    ar: save(b.ar),
    qf: save(b.qf),
    cu: save(b.cu),
    cc: save(b.cc),
    fl: save(b.fl),
    vs: save(b.vs),
    sb: save(b.sb),
    lk: save(b.lk),
    nv: save(b.nv),
    rec: save(b.rec),
    gaps: save(b.gaps),
  };
}

export function engineState(p: EngineStateParts): EngineState {
  return {
    kind: ENGINE_KIND,
    version: ENGINE_VERSION,
    options: p.options,
    ids: p.ids,
    streams: p.streams,
    ...p.banks,
    cal: p.cal,
    ...p.tier2,
    ...p.events,
    // JSON has no −Infinity
    lastTs: Number.isFinite(p.lastTs) ? p.lastTs : null,
    steps: p.steps,
  };
}

/** Checks a saved engine's envelope; returns it as a record (its `options` construct the engine). */
export function openEngineState(state: unknown): Record<string, unknown> {
  return checkEnvelope(state, ENGINE_KIND, ENGINE_VERSION);
}

/** Adds n fresh streams to an empty bank (a detector the saved state predates). */
function fresh<B extends { add(): number }>(b: B, n: number): B {
  for (let k = 0; k < n; k++) b.add();
  return b;
}

/**
 * Everything of an opened state `s` but the options, Tier 2 and the events (which read their own
 * keys). `empty`: the restoring engine's own (empty) banks, which stand in for detectors the
 * state predates.
 */
export function readEngineState(
  s: Record<string, unknown>,
  empty: EngineBanks,
  options: EngineOptions,
): { ids: string[]; banks: EngineBanks; cal: TailCalibrator; lastTs: number; steps: number } {
  const ids = s.ids;
  if (!Array.isArray(ids) || !ids.every((x): x is string => typeof x === "string")) throw new StateError("engine: ids must be strings");
  const n = ids.length;
  const banks: EngineBanks = {
    rz: RobustZBank.restore(s.rz),
    hw: HoltWintersBank.restore(s.hw),
    ar: ArRlsBank.restore(s.ar),
    qf: QuantileFilterBank.restore(s.qf),
    cu: s.cu !== undefined ? ShiftCusumBank.restore(s.cu) : fresh(empty.cu, n),
    cc: s.cc !== undefined ? CountCusumBank.restore(s.cc) : fresh(empty.cc, n),
    fl: s.fl !== undefined ? FlatlineBank.restore(s.fl) : fresh(empty.fl, n),
    vs: s.vs !== undefined ? VarianceShiftBank.restore(s.vs) : fresh(empty.vs, n),
    sb: s.sb !== undefined ? SeasonBreakBank.restore(s.sb) : fresh(empty.sb, n),
    lk: s.lk !== undefined ? ScoreLikelihoodBank.restore(s.lk) : fresh(empty.lk, n),
    nv: s.nv !== undefined ? ContextNoveltyBank.restore(s.nv) : fresh(empty.nv, n),
    rec: s.rec !== undefined ? RecordBank.restore(s.rec, { minHits: options.recurrenceHits, quietHalfLife: options.recordQuietHalfLife }) : fresh(empty.rec, n),
    gaps: GapTracker.restore(s.gaps),
  };
  const cal = TailCalibrator.restore(s.cal);
  for (const b of Object.values(banks)) if (b.size !== n) throw new StateError("engine: bank size mismatch");
  if (cal.size !== 2 + n * ND) throw new StateError("engine: calibrator size mismatch");
  return {
    ids: ids.slice(),
    banks,
    cal,
    lastTs: typeof s.lastTs === "number" ? s.lastTs : -Infinity,
    steps: getNumber(s, "steps"),
  };
}
