/**
 * Applies effective detector settings to the engine's anomaly events: the same rules run in the
 * worker (live) and in the backtest (replay), so a backtest predicts what the worker will do.
 *
 * The engine itself applies the per-stream sensitivity multiplier (a score scale) and the
 * lowest configured severity cut-offs; this gate then, per stream, drops disabled detectors,
 * mute windows and too-short events, and re-grades severity with the stream's own cut-offs.
 */
import type { EffectiveSettings, TMuteWindow, TSeverityCutoffs } from "./settings";

export type GateSeverity = "low" | "medium" | "high";

const DAY_INDEX: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** True when `ms` falls in any window (daily windows may wrap midnight; all times UTC). */
export function isMuted(ms: number, windows: readonly TMuteWindow[]): boolean {
  for (const w of windows) {
    if (w.kind === "once") {
      if (ms >= Date.parse(w.from) && ms < Date.parse(w.to)) return true;
      continue;
    }
    const d = new Date(ms);
    const minute = d.getUTCHours() * 60 + d.getUTCMinutes();
    const s = minutesOf(w.start);
    const e = minutesOf(w.end);
    const inside = s <= e ? minute >= s && minute < e : minute >= s || minute < e;
    if (!inside) continue;
    // For a window that wraps midnight, the part after midnight belongs to the previous day.
    const day = s > e && minute < e ? (d.getUTCDay() + 6) % 7 : d.getUTCDay();
    if (!w.days || w.days.some((x) => DAY_INDEX[x] === day)) return true;
  }
  return false;
}

export function severityFor(score: number, c: TSeverityCutoffs): GateSeverity | null {
  if (score > c.high) return "high";
  if (score > c.medium) return "medium";
  if (score > c.low) return "low";
  return null;
}

export interface GateInput {
  startMs: number;
  /** null while open */
  endMs: number | null;
  peakScore: number;
  type: string;
}

export type GateResult = { action: "raise"; severity: GateSeverity } | { action: "hold" } | { action: "drop"; reason: string };

/**
 * What to do with one event at time `nowMs`: raise it (with the stream's severity), hold it
 * (still shorter than the minimum duration; a later update may raise it) or drop it.
 */
export function gateEvent(e: GateInput, s: EffectiveSettings, nowMs: number): GateResult {
  if (!s.enabled) return { action: "drop", reason: "detection disabled" };
  if (e.type === "gap" ? !s.detectors.gaps : !s.detectors.univariate) return { action: "drop", reason: "detector off" };
  if (isMuted(e.startMs, s.muteWindows)) return { action: "drop", reason: "muted" };
  const severity = severityFor(e.peakScore, s.severity);
  if (!severity) return { action: "drop", reason: "below cut-off" };
  const duration = (e.endMs ?? nowMs) - e.startMs;
  if (duration < s.minDurationSec * 1000) return e.endMs === null ? { action: "hold" } : { action: "drop", reason: "too short" };
  return { action: "raise", severity };
}

/** Engine-wide cut-offs low enough that every stream's own cut-offs can be applied by the gate. */
export function engineCutoffs(all: readonly EffectiveSettings[], fallback: TSeverityCutoffs): TSeverityCutoffs {
  if (all.length === 0) return { ...fallback };
  return {
    low: Math.min(...all.map((s) => s.severity.low)),
    medium: Math.min(...all.map((s) => s.severity.medium)),
    high: Math.min(...all.map((s) => s.severity.high)),
  };
}
