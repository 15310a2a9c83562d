"use client";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC, type RouterOutputs } from "@/components/trpc/client";
import { formatAge } from "@/lib/triage/freshness";

type Incident = RouterOutputs["triage"]["attention"]["incidents"][number];

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

function IncidentRow({ inc, nowMs }: { inc: Incident; nowMs: number }) {
  const where = `${inc.sourceName}${inc.group ? ` / ${inc.group}` : ""}`;
  const more = inc.streamCount - inc.streams.length;
  return (
    <li className={`incident ${inc.severity}`} data-testid="attention-incident" data-severity={inc.severity}>
      <div className="row" style={{ justifyContent: "space-between", flexWrap: "nowrap" }}>
        <div className="row" style={{ gap: 8, minWidth: 0 }}>
          <span className={`badge ${inc.severity}`}>{inc.severity}</span>
          <Link href={`/incidents/${inc.id}`} className="incident-title" data-testid="attention-link">
            #{inc.id} {where}: {inc.streamCount === 1 ? inc.streams[0]?.metric : `${inc.streamCount} streams`}
          </Link>
          <span className={`status ${inc.status}`}>{inc.status}</span>
        </div>
        <span className="muted small" style={{ whiteSpace: "nowrap" }}>
          started {formatAge(inc.startMs, nowMs)} · {inc.endMs === null ? "ongoing" : `ended ${formatAge(inc.endMs, nowMs)}`}
        </span>
      </div>
      <div className="muted small incident-streams">
        {inc.streams.map((s) => `${s.metric}${Object.keys(s.labels).length ? ` {${labelText(s.labels)}}` : ""}`).join(" · ")}
        {more > 0 ? ` · +${more} more` : ""}
      </div>
      <div className="small">
        {inc.anomalyCount} {inc.anomalyCount === 1 ? "anomaly" : "anomalies"} ({inc.types.join(", ")}) · peak score {inc.peakScore.toFixed(0)} ·{" "}
        <span data-testid="attention-age">last sample {formatAge(inc.lastSampleAtMs, nowMs)}</span>
        {inc.stale ? (
          <span className="badge stale" title="No new samples for several usual intervals: the stream may have stopped.">
            stale
          </span>
        ) : null}
      </div>
    </li>
  );
}

/** What needs someone now: open anomalies detected live, as incidents, worst and newest first. */
export function NeedsAttention() {
  const trpc = useTRPC();
  const q = useQuery(trpc.triage.attention.queryOptions(undefined, { refetchInterval: 5_000 }));
  const data = q.data;
  return (
    <section aria-label="Needs attention" className="panel attention" data-testid="needs-attention">
      <h2 style={{ marginTop: 0 }}>
        Needs attention{" "}
        {data ? (
          <span className="muted small" data-testid="attention-count">
            {data.total === 0 ? "" : `${data.total} ${data.total === 1 ? "incident" : "incidents"} open or acknowledged`}
          </span>
        ) : null}
      </h2>
      {q.isError ? <p className="error">Could not load open incidents: {q.error.message}</p> : null}
      {data && data.total === 0 ? (
        <p className="muted" data-testid="attention-empty">
          Nothing open right now. Anomalies found in imported or backfilled history are listed under{" "}
          <Link href="/anomalies?historical=1">Anomalies</Link>, not here.
        </p>
      ) : null}
      {data && data.total > 0 ? (
        <ul className="incidents">
          {data.incidents.map((inc) => (
            <IncidentRow key={inc.id} inc={inc} nowMs={data.nowMs} />
          ))}
        </ul>
      ) : null}
      {data && data.total > data.incidents.length ? (
        <p className="muted small">
          {data.total - data.incidents.length} more: <Link href="/incidents?status=open">see all open incidents</Link>
        </p>
      ) : null}
    </section>
  );
}
