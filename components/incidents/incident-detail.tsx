"use client";
import { Can } from "@/components/access/can";
import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC, type RouterOutputs } from "@/components/trpc/client";
import { formatDuration, formatTime, LABEL_TEXT } from "@/components/anomalies/anomaly-format";
import { LabelButtons, StatusButtons, StreamLinks } from "@/components/triage/detail-actions";
import { LabelSimilar } from "@/components/triage/label-similar";
import { Breadcrumbs } from "@/components/ui/breadcrumbs";
import { incidentName, placeName } from "@/lib/triage/names";
import { timelineBars } from "./timeline";

type Detail = RouterOutputs["incidents"]["detail"];

/** The anomalies that joined from another source or group, and the dependency-graph edge that brought each. */
function DependencyLinks({ anomalies, streams }: { anomalies: Detail["anomalies"]; streams: Detail["streams"] }) {
  const linked = anomalies.filter((a) => a.incidentLink);
  if (linked.length === 0) return null;
  const byId = new Map(streams.map((s) => [s.id, s]));
  const key = (id: number) => byId.get(id)?.key ?? `stream ${id}`;
  const where = (id: number) => {
    const s = byId.get(id);
    // a stream without a group is grouped by its job (as incidents group it)
    const g = s?.group ?? s?.labels.job ?? null;
    return s ? ` (${s.sourceName}${g ? ` / ${g}` : ""})` : "";
  };
  return (
    <section aria-labelledby="links-h" className="panel" data-testid="incident-links">
      <h2 id="links-h">Linked through the dependency graph</h2>
      <ul>
        {linked.map((a) => {
          const l = a.incidentLink!;
          const follower = l.leaderId === l.streamId ? l.linkedStreamId : l.streamId;
          const order = l.lagSec === 0 ? "moving together" : `${key(l.leaderId)} moving ${formatDuration(l.lagSec * 1000)} before ${key(follower)}`;
          return (
            <li key={a.id} data-testid="incident-link">
              <Link href={`/anomalies/${a.id}`} className="mono">
                {key(l.streamId)}
              </Link>
              {where(l.streamId)} joined: its moves agree with <span className="mono">{key(l.linkedStreamId)}</span>
              {where(l.linkedStreamId)} over the two hours before its onset (correlation {l.correlation.toFixed(2)}, {order}).
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** One incident: its one status and label (acting on all its anomalies), streams, timeline, anomalies and alert deliveries. */
export function IncidentDetail({ id }: { id: number }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const detail = useQuery(trpc.incidents.detail.queryOptions({ id }, { refetchInterval: 5_000 }));
  const invalidate = () => Promise.all([qc.invalidateQueries({ queryKey: trpc.incidents.pathKey() }), qc.invalidateQueries({ queryKey: trpc.anomalies.pathKey() })]);
  const setStatus = useMutation(trpc.incidents.setStatus.mutationOptions({ onSuccess: invalidate }));
  const setLabel = useMutation(trpc.incidents.label.mutationOptions({ onSuccess: invalidate }));

  if (detail.isError) return <p className="error">Could not load incident: {detail.error.message}</p>;
  if (!detail.data) return <p className="muted">Loading…</p>;
  const { incident: inc, anomalies, streams, deliveries } = detail.data;
  const nowMs = detail.dataUpdatedAt;
  const keyOf = new Map(streams.map((s) => [s.id, s.key]));
  const tl = timelineBars(anomalies, nowMs);
  const busy = setStatus.isPending || setLabel.isPending;
  const error = setStatus.error ?? setLabel.error;
  const where = placeName(inc.sourceName, inc.group);

  return (
    <div>
      <Breadcrumbs
        trail={[
          { label: "Incidents", href: "/incidents" },
          { label: incidentName({ sourceName: inc.sourceName, group: inc.group, streamCount: inc.streamIds.length, streams }) },
        ]}
      />
      <h1 data-testid="incident-title">
        <span className={`badge ${inc.severity}`}>{inc.severity}</span> Incident #{inc.id} on {where}
      </h1>
      <div className="row">
        <span>
          started <strong>{formatTime(inc.startMs)}</strong>
        </span>
        <span>{inc.endMs === null ? "ongoing" : `lasted ${formatDuration(inc.endMs - inc.startMs)}`}</span>
        <span>
          {inc.anomalyCount} {inc.anomalyCount === 1 ? "anomaly" : "anomalies"} on {inc.streamIds.length} {inc.streamIds.length === 1 ? "stream" : "streams"}
        </span>
        <span>
          type <strong>{inc.type}</strong>
        </span>
        <span>
          peak score <strong>{inc.peakScore.toFixed(0)}</strong>
        </span>
        <span>
          status{" "}
          <strong className={`status ${inc.status}`} data-testid="incident-status">
            {inc.status}
          </strong>
          {inc.status === "resolved" && inc.resolvedBy ? (
            <span className="muted small"> ({inc.resolvedBy === "auto" ? "all its anomalies ended" : `by ${inc.resolvedBy}`})</span>
          ) : null}
        </span>
        <span>
          label <strong data-testid="incident-label">{inc.label ? LABEL_TEXT[inc.label] : "none"}</strong>
        </span>
        {inc.historical ? <span className="tag-historical">historical</span> : null}
      </div>

      <Can role="operator" otherwise={<p className="muted" data-testid="viewer-note">You can read this incident; operators triage and label it.</p>}>
        <div className="row actions" role="group" aria-label="Status">
          <StatusButtons status={inc.status} busy={busy} onStatus={(st) => setStatus.mutate({ ids: [inc.id], status: st })} />
        </div>
        <div className="row actions" role="group" aria-label="Label">
          <span className="muted small">Label the incident and its {inc.anomalyCount} {inc.anomalyCount === 1 ? "anomaly" : "anomalies"}:</span>
          <LabelButtons label={inc.label} busy={busy} onLabel={(l) => setLabel.mutate({ ids: [inc.id], label: l })} />
        </div>
      </Can>
      {setLabel.data && !busy ? (
        <p className="muted" role="status" data-testid="label-done">
          Labelled {setLabel.data.anomalies} {setLabel.data.anomalies === 1 ? "anomaly" : "anomalies"}; the worker applies the labels to the detectors within seconds.
        </p>
      ) : null}
      {error ? <p className="error">{error.message}</p> : null}
      <Can role="operator">
        <LabelSimilar target={{ incidentId: inc.id }} label={inc.label} />
      </Can>

      <DependencyLinks anomalies={anomalies} streams={streams} />

      <h2>Timeline</h2>
      <div className="panel" data-testid="incident-timeline">
        <div className="row small muted" style={{ justifyContent: "space-between" }}>
          <span>{formatTime(tl.fromMs)}</span>
          <span>{formatTime(tl.toMs)}</span>
        </div>
        <ul className="timeline">
          {anomalies.map((a, k) => {
            const bar = tl.bars[k]!;
            return (
              <li key={a.id} className="timeline-row">
                <Link href={`/anomalies/${a.id}`} className="timeline-label mono ellipsis" title={a.incidentLink ? `${a.streamKey} (linked through the dependency graph)` : a.streamKey}>
                  {a.incidentLink ? <span className="link-mark" aria-label="linked">⇄ </span> : null}
                  {a.streamKey}
                </Link>
                <span className="timeline-track">
                  <span
                    className={`timeline-bar ${a.severity}${bar.ongoing ? " ongoing" : ""}`}
                    style={{ left: `${bar.leftPct}%`, width: `${bar.widthPct}%` }}
                    title={`${a.type}, ${a.severity}, ${formatTime(a.startMs)} – ${a.endMs === null ? "ongoing" : formatTime(a.endMs)}`}
                  />
                </span>
              </li>
            );
          })}
        </ul>
      </div>

      <div className="two-col">
        <section aria-labelledby="streams-h">
          <h2 id="streams-h">Streams</h2>
          <StreamLinks streams={streams} total={detail.data.totalStreams} testId="incident-streams" />
        </section>
        <section aria-labelledby="alerts-h">
          <h2 id="alerts-h">Alert deliveries</h2>
          {deliveries.length === 0 ? (
            <p className="muted">No alert rule announced this incident.</p>
          ) : (
            <table data-testid="incident-deliveries">
              <thead>
                <tr>
                  <th>Rule</th>
                  <th>Event</th>
                  <th>Status</th>
                  <th>When</th>
                </tr>
              </thead>
              <tbody>
                {[...deliveries].reverse().map((d) => (
                  <tr key={d.id}>
                    <td>{d.ruleName}</td>
                    <td>
                      {d.event} <span className={`badge ${d.severity}`}>{d.severity}</span>
                    </td>
                    <td>
                      {d.status}
                      {d.attempts > 1 ? <span className="muted small"> ({d.attempts} attempts)</span> : null}
                    </td>
                    <td>{formatTime(d.sentAtMs ?? d.createdAtMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>

      <h2>Anomalies</h2>
      <table data-testid="incident-anomalies">
        <thead>
          <tr>
            <th>Severity</th>
            <th>Type</th>
            <th>Stream</th>
            <th>Started</th>
            <th>Duration</th>
            <th>Peak score</th>
            <th>Label</th>
          </tr>
        </thead>
        <tbody>
          {anomalies.map((a) => (
            <tr key={a.id} data-testid="incident-anomaly-row">
              <td>
                <span className={`badge ${a.severity}`}>{a.severity}</span>
              </td>
              <td>{a.type}</td>
              <td className="mono ellipsis" title={a.streamKey}>
                <Link href={`/anomalies/${a.id}`}>{keyOf.get(a.streamId) ?? a.streamKey}</Link>
              </td>
              <td>{formatTime(a.startMs)}</td>
              <td>{a.endMs === null ? <span className="muted">ongoing</span> : formatDuration(a.endMs - a.startMs)}</td>
              <td className="num">{a.peakScore.toFixed(0)}</td>
              <td>{a.label ? LABEL_TEXT[a.label] : <span className="muted">–</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {detail.data.totalAnomalies > anomalies.length ? <p className="muted">and {detail.data.totalAnomalies - anomalies.length} more</p> : null}
    </div>
  );
}
