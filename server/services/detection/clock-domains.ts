/**
 * The engine adapter's state: its clock domains, and the form `serialize()` saves them in and
 * `restoreEngine` (also from older snapshots) reads them back from.
 */
import v8 from "node:v8";
import { isRecord, StateError } from "@/lib/detectors/codec";
import { DetectionEngine } from "@/lib/detectors/engine";
import { isPackedState, unpackState } from "./state-container";

/**
 * One engine and its clock. Streams whose history arrives after the live engine has moved past
 * it (a pull source's backfill, a CSV import of last month) get an engine of their own that
 * steps through that history in time order, learning from it, and then follows live data on its
 * own clock until it has caught up with the live one, whose engine then takes its streams over
 * (`EngineAdapter.mergeCaughtUp`). Domain 0 is the live one; each domain's Tier-2 models see
 * only its own streams.
 */
export interface ClockDomain {
  engine: DetectionEngine;
  last: number;
}

/** The saved state: domain 0 in the top-level fields, so snapshots from before clock domains restore as domain 0. */
export type SavedDomains = { engine: unknown; last: number; history: { engine: unknown; last: number }[] };

/** The state with its columns as views of the live arrays (see `ColumnForm`): to be packed before the engines change. */
export function saveDomains(domains: readonly ClockDomain[]): SavedDomains {
  const [live, ...history] = domains;
  return {
    engine: live!.engine.serialize("binary"),
    last: live!.last,
    history: history.map((d) => ({ engine: d.engine.serialize("binary"), last: d.last })),
  };
}

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

/** The clock domains in `serialize()` output (also the formats older snapshots hold, see `readSnapshotState`). */
export function restoreDomains(state: Uint8Array | string): ClockDomain[] {
  const saved = readSnapshotState(state);
  if (!isRecord(saved)) throw new StateError("snapshot: not an engine state");
  const history = saved.history ?? [];
  if (!Array.isArray(history)) throw new StateError("snapshot: history must be an array");
  return [saved, ...history].map((d: unknown): ClockDomain => {
    if (!isRecord(d)) throw new StateError("snapshot: a clock domain is not an object");
    return { engine: DetectionEngine.restore(d.engine), last: clock(d.last) };
  });
}
