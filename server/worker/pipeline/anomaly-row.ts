import type { EngineEvent } from "@/lib/detectors/engine-port";
import type { AnomalyUpsert } from "../../repos/anomalies-repo";

/** The anomaly row an engine event opens or updates (keyed by its engine id, so a replay updates it). */
export function anomalyRow(e: EngineEvent): AnomalyUpsert {
  return {
    engineId: e.engineId,
    streamId: e.streamIds[0]!,
    streamIds: e.streamIds,
    startMs: e.startMs,
    endMs: e.kind === "closed" ? e.endMs : null,
    peakScore: e.peakScore,
    severity: e.severity,
    type: e.type,
    explanation: e.explanation,
  };
}
