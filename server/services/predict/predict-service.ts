import { getLivePrediction, listPredictions } from "../../repos/predictions-repo";

/** Predictions older than this are stale (the worker refreshes every minute). */
const FRESH_MS = 5 * 60_000;

/** Predicted incidents: streams likely to leave their normal range within the next window. */
export async function predictedIncidents(minProbability = 0.5, limit = 50, nowMs = Date.now()) {
  return listPredictions(minProbability, nowMs - FRESH_MS, limit, nowMs);
}

export async function streamPrediction(streamId: number, nowMs = Date.now()) {
  const p = await getLivePrediction(streamId, nowMs);
  return p && p.computedAtMs >= nowMs - FRESH_MS ? p : null;
}
