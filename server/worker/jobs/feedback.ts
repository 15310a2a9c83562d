import type { EnginePort } from "@/lib/detectors/engine-port";
import { markFeedbackApplied, pendingFeedback } from "../../repos/feedback-repo";

/**
 * Teaches the engine the labels given since the last run and records, per label, the data time
 * (the stream's engine clock) it was taught at: the backtest teaches it at the same point of its
 * replay. Returns how many labels were applied.
 */
export async function applyPendingFeedback(engine: EnginePort): Promise<number> {
  const items = await pendingFeedback();
  if (items.length === 0) return 0;
  const dataMs: (number | null)[] = [];
  for (const f of items) {
    for (const id of f.streamIds) engine.applyFeedback(id, f.label, f.startMs, f.endMs);
    const first = f.streamIds.find((id) => engine.hasStream(id));
    const clock = first === undefined ? Number.NaN : engine.lastStepMs(engine.domainOf(first));
    dataMs.push(Number.isFinite(clock) ? clock : null);
  }
  await markFeedbackApplied(
    items.map((f) => f.id),
    dataMs,
  );
  return items.length;
}
