import type { ZodError } from "zod";

const FIELD_NAMES: Record<string, string> = {
  sensitivity: "Sensitivity",
  minDurationSec: "Minimum duration",
  minTrainingSamples: "Minimum training samples",
  trainingWindowDays: "Training window",
  bandSigmas: "Band width",
  low: "Low cut-off",
  medium: "Medium cut-off",
  high: "High cut-off",
};

function fieldName(path: readonly PropertyKey[]): string {
  const last = [...path].reverse().find((p) => typeof p === "string");
  if (last === undefined) return path.length ? `Item ${String(path[path.length - 1])}` : "The request";
  return FIELD_NAMES[last] ?? last.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/^./, (c) => c.toUpperCase());
}

/** One sentence per problem ("Sensitivity: too small, expected at least 0.1."), never raw JSON. */
export function zodMessage(err: ZodError, max = 5): string {
  const lines = err.issues.slice(0, max).map((i) => {
    const msg = i.message.replace(/^Invalid input: /, "").replace(/\.$/, "");
    return `${fieldName(i.path)}: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}.`;
  });
  const more = err.issues.length - max;
  return lines.join(" ") + (more > 0 ? ` (${more} more problem${more === 1 ? "" : "s"})` : "");
}
