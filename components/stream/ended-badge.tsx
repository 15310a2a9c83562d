import { formatAge } from "@/lib/triage/freshness";

/**
 * "ended <time>": Prometheus sent a staleness marker for the stream's series (its target or the
 * series is gone), so its silence is expected and raises no gap anomaly. Nothing is drawn for
 * a stream that is not ended (or was revived by a newer sample).
 */
export function EndedBadge({ endedAtMs, nowMs }: { endedAtMs: number | null; nowMs: number }) {
  if (endedAtMs === null) return null;
  const at = new Date(endedAtMs);
  return (
    <span
      className="badge ended"
      data-testid="stream-ended"
      title={`Prometheus marked this series stale at ${at.toLocaleString()} (it is gone from its target): no gap is reported while it is ended. A new sample revives it.`}
    >
      ended {formatAge(endedAtMs, nowMs)}
    </span>
  );
}
