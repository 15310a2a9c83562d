import type { EngineEvent } from "@/lib/detectors/engine-port";
import { readEndedStreams } from "../../repos/streams-repo";

/**
 * Keeps gap anomalies of ended streams out of the results. A stream whose series disappeared
 * (Prometheus sent a staleness marker; `stream.ended_at`) is silent on purpose: its silence is
 * not a gap. The engine still tracks the gap (lib/detectors knows nothing of markers), so its
 * gap event is dropped here for its whole life, opened to closed. The check reads the database
 * only when a gap event the filter has not decided appears, which is rare.
 */
export class EndedGapFilter {
  /** Gap events of ended streams (dropped until they close) and of streams that had not ended (kept). */
  private readonly dropped = new Set<string>();
  private readonly kept = new Set<string>();
  /** Gap events dropped so far (for the worker's stats). */
  droppedEvents = 0;

  /**
   * Removes from `events` the gap events of streams that ended: an `ended_at` at or after the
   * stream's newest sample (`latestSampleMs`; a later sample revives the stream).
   */
  async apply(
    events: Map<string, EngineEvent>,
    latestSampleMs: (id: number) => number,
    read: (ids: readonly number[]) => Promise<Map<number, number>> = readEndedStreams,
  ): Promise<void> {
    let undecided: EngineEvent[] | null = null;
    for (const e of events.values()) {
      if (e.type !== "gap") continue;
      if (this.dropped.has(e.engineId)) {
        events.delete(e.engineId);
        this.droppedEvents++;
        if (e.kind === "closed") this.dropped.delete(e.engineId);
      } else if (this.kept.has(e.engineId)) {
        if (e.kind === "closed") this.kept.delete(e.engineId);
      } else (undecided ??= []).push(e);
    }
    if (!undecided) return;
    const ended = await read(undecided.flatMap((e) => e.streamIds));
    for (const e of undecided) {
      const gone = e.streamIds.length > 0 && e.streamIds.every((id) => {
        const at = ended.get(id);
        return at !== undefined && at >= latestSampleMs(id);
      });
      if (gone) {
        events.delete(e.engineId);
        this.droppedEvents++;
        if (e.kind !== "closed") this.dropped.add(e.engineId);
      } else if (e.kind !== "closed") this.kept.add(e.engineId);
    }
  }
}
