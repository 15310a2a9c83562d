"use client";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC, type RouterOutputs } from "@/components/trpc/client";
import { formatDuration } from "@/components/anomalies/anomaly-format";

type Explanation = RouterOutputs["explain"]["anomaly"];

export function offset(sec: number): string {
  if (sec === 0) return "0s";
  const sign = sec < 0 ? "−" : "+";
  const a = Math.abs(sec);
  return a >= 60 ? `${sign}${Math.floor(a / 60)}m ${a % 60}s` : `${sign}${a}s`;
}

/** Lead–lag in words; null = no correlation could be computed, so no lag either. */
export function leadLagText(lagSec: number | null): string {
  if (lagSec === null) return "not enough data";
  return lagSec > 0 ? `leads by ${formatDuration(lagSec * 1000)}` : lagSec < 0 ? `follows by ${formatDuration(-lagSec * 1000)}` : "together";
}

export function correlationText(r: number | null): string {
  return r === null ? "not enough data" : r.toFixed(2);
}

/** Streams as nodes left→right by onset, edges = lagged correlation (leader → follower). */
function DependencyGraph({ ex }: { ex: Explanation }) {
  const nodes = ex.timeline;
  if (nodes.length < 2) return null;
  const w = 760;
  const h = 40 + 44 * nodes.length;
  const x = (i: number) => 20 + ((w - 300) * i) / Math.max(1, nodes.length - 1);
  const y = (i: number) => 30 + 44 * i;
  const pos = new Map(nodes.map((n, i) => [n.streamId, { x: x(i), y: y(i) }]));
  return (
    <svg role="img" aria-label="Dependency graph of the streams involved" width="100%" style={{ maxWidth: w }} viewBox={`0 0 ${w} ${h}`} data-testid="dependency-graph">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" fill="var(--muted)" />
        </marker>
      </defs>
      {ex.edges.map((e) => {
        const a = pos.get(e.from);
        const b = pos.get(e.to);
        if (!a || !b) return null;
        return (
          <g key={`${e.from}-${e.to}`}>
            <line x1={a.x + 6} y1={a.y} x2={b.x - 6} y2={b.y} stroke="var(--muted)" strokeWidth={1 + 2 * Math.abs(e.correlation)} markerEnd="url(#arrow)" opacity={0.8} />
            <title>{`${e.fromKey} → ${e.toKey}: lag ${e.lagSec}s, r=${e.correlation}`}</title>
          </g>
        );
      })}
      {nodes.map((n, i) => (
        <g key={n.streamId}>
          <circle cx={x(i)} cy={y(i)} r={6} fill={n.streamId === ex.originStreamId ? "var(--high)" : "var(--accent)"} />
          <text x={x(i) + 12} y={y(i) + 4} fontSize={12} fill="var(--text)">
            {n.key.length > 48 ? `${n.key.slice(0, 47)}…` : n.key}
          </text>
        </g>
      ))}
    </svg>
  );
}

/** Which streams moved first around this anomaly: the causal timeline and dependency graph. */
export function CausalTimeline({ anomalyId }: { anomalyId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.explain.anomaly.queryOptions({ id: anomalyId }));
  if (q.isError) return <p className="error">Could not build the causal timeline: {q.error.message}</p>;
  if (!q.data) return <p className="muted">Analysing related streams…</p>;
  const ex = q.data;
  if (ex.timeline.length <= 1) {
    return <p className="muted">No other stream of this group had an anomaly open in the 30 minutes before or during this one.</p>;
  }
  return (
    <div data-testid="causal-timeline">
      <table>
        <caption className="muted" style={{ textAlign: "left" }}>
          Anomalies of this group in order of onset (relative to this anomaly)
        </caption>
        <thead>
          <tr>
            <th scope="col">Onset</th>
            <th scope="col">Stream</th>
            <th scope="col">Peak</th>
            <th scope="col">Lead–lag</th>
            <th scope="col">Correlation</th>
          </tr>
        </thead>
        <tbody>
          {ex.timeline.map((e) => (
            <tr key={e.streamId}>
              <td>{offset(e.offsetSec)}</td>
              <td>
                {e.anomalyId && e.streamId !== ex.referenceStreamId ? <Link href={`/anomalies/${e.anomalyId}`}>{e.key}</Link> : e.key}
                {e.streamId === ex.originStreamId ? <span className="badge high" style={{ marginLeft: 6 }}>origin</span> : null}
                {e.streamId === ex.referenceStreamId ? <span className="badge" style={{ marginLeft: 6 }}>this anomaly</span> : null}
              </td>
              <td>{e.peakScore.toFixed(0)}</td>
              <td>{e.streamId === ex.referenceStreamId ? "–" : leadLagText(e.lagSec)}</td>
              <td>{e.streamId === ex.referenceStreamId ? "–" : correlationText(e.correlation)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <DependencyGraph ex={ex} />
    </div>
  );
}
