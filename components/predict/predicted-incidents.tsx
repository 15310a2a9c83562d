"use client";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { formatValue } from "@/components/charts/chart-data";

function eta(ms: number | null, now: number): string {
  if (ms === null) return "within 30 min (uncertain)";
  const min = Math.max(0, Math.round((ms - now) / 60_000));
  return min === 0 ? "now" : `in ~${min} min`;
}

/** Streams the forecast says will leave their normal range within 30 minutes. */
export function PredictedIncidents() {
  const trpc = useTRPC();
  const q = useQuery(trpc.predict.incidents.queryOptions({ minProbability: 0.5, limit: 20 }, { refetchInterval: 30_000 }));
  const rows = q.data ?? [];
  if (rows.length === 0) return null;
  const now = Date.now();
  return (
    <section aria-label="Predicted incidents" className="panel" style={{ marginTop: 12 }} data-testid="predicted-incidents">
      <h2 style={{ marginTop: 0 }}>Predicted in the next 30 minutes</h2>
      <ul style={{ margin: 0, paddingLeft: 18 }}>
        {rows.map((p) => (
          <li key={p.streamId}>
            <Link href={`/streams/${p.streamId}`}>{p.key}</Link> will go {p.direction ?? "outside"} its normal range (
            {formatValue(p.direction === "below" ? p.envelopeLow : p.envelopeHigh)}) {eta(p.etaMs, now)} · probability{" "}
            <strong>{Math.round(p.probability * 100)}%</strong>
          </li>
        ))}
      </ul>
    </section>
  );
}
