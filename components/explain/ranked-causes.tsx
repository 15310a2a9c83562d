"use client";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { correlationText, leadLagText, offset } from "./causal-timeline";

function percent(share: number): string {
  return share >= 0.995 ? "100 %" : share < 0.005 ? "<1 %" : `${Math.round(share * 100)} %`;
}

/** The streams of this anomaly's group ranked by their share of the evidence from just before onset to the end (lib/explain/cause-ranking.ts). */
export function RankedCauses({ anomalyId }: { anomalyId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.explain.anomaly.queryOptions({ id: anomalyId }));
  if (q.isError) return <p className="error">Could not rank the causes: {q.error.message}</p>;
  if (!q.data) return <p className="muted">Ranking the streams of this group…</p>;
  const ex = q.data;
  const where = [ex.group.source, ex.group.group].filter(Boolean).join(" / ");
  const origin = ex.causes.find((c) => c.streamId === ex.originStreamId);
  const self = ex.causes.find((c) => c.isReference);
  const others = ex.causes.filter((c) => !c.isReference);
  return (
    <div data-testid="ranked-causes">
      {origin ? (
        <p data-testid="probable-origin">
          Probable origin: <strong>{origin.key}</strong>
          {origin.offsetSec !== null && origin.offsetSec < 0 ? ` rose ${offset(-origin.offsetSec).replace("+", "")} earlier and` : ""} carries{" "}
          {percent(origin.share)} of the evidence
          {typeof origin.correlation === "number" ? ` (correlation ${origin.correlation.toFixed(2)} with this stream)` : ""}.
        </p>
      ) : (
        <p data-testid="probable-origin">
          No other stream of {where ? <strong>{where}</strong> : "this group"} rose before this one with comparable evidence
          {self && self.share > 0 ? `; this stream carries ${percent(self.share)} of it` : ""}.
        </p>
      )}
      {others.length === 0 ? (
        <p className="muted">No other stream of this group carried evidence from 30 minutes before onset to the end ({ex.group.streamsScored} stream{ex.group.streamsScored === 1 ? "" : "s"} scored then).</p>
      ) : null}
      <table data-testid="causes-table">
        <caption className="muted" style={{ textAlign: "left" }}>
          Share of the evidence (each stream&apos;s largest score plus deviation from its forecast) from 30 minutes before onset to the end, among{" "}
          {ex.group.streamsScored} stream{ex.group.streamsScored === 1 ? "" : "s"} of {where || "this group"} scored then
        </caption>
        <thead>
          <tr>
            <th scope="col">Rank</th>
            <th scope="col">Stream</th>
            <th scope="col">Share</th>
            <th scope="col">Rose</th>
            <th scope="col">Peak</th>
            <th scope="col">Lead–lag</th>
            <th scope="col">Correlation</th>
          </tr>
        </thead>
        <tbody>
          {ex.causes.map((c) => (
            <tr key={c.streamId} data-testid="cause-row">
              <td>{c.rank}</td>
              <td className="mono ellipsis" title={c.key}>
                {c.anomalyId && !c.isReference ? <Link href={`/anomalies/${c.anomalyId}`}>{c.key}</Link> : <Link href={`/streams/${c.streamId}`}>{c.key}</Link>}
                {c.streamId === ex.originStreamId ? <span className="badge high" style={{ marginLeft: 6 }}>origin</span> : null}
                {c.isReference ? <span className="badge" style={{ marginLeft: 6 }}>this anomaly</span> : null}
              </td>
              <td>
                <span aria-hidden style={{ display: "inline-block", width: Math.max(2, Math.round(c.share * 80)), height: 8, background: "var(--accent)", marginRight: 6 }} />
                {percent(c.share)}
              </td>
              <td>{c.offsetSec === null ? "–" : offset(c.offsetSec)}</td>
              <td>{c.peakScore === null ? "–" : c.peakScore.toFixed(0)}</td>
              <td>{c.isReference ? "–" : leadLagText(c.lagSec)}</td>
              <td>{c.isReference ? "–" : correlationText(c.correlation)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
