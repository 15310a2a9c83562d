"use client";
import { Can } from "@/components/access/can";
import { CausalTimeline } from "@/components/explain/causal-timeline";
import { LabelButtons, StatusButtons, StreamLinks } from "@/components/triage/detail-actions";
import { LabelSimilar } from "@/components/triage/label-similar";
import { RankedCauses } from "@/components/explain/ranked-causes";
import { ReportDownload } from "@/components/explain/report-download";
import Link from "next/link";
import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { buildChartRows } from "@/components/charts/chart-data";
import { StreamChart } from "@/components/stream/stream-chart";
import { Breadcrumbs } from "@/components/ui/breadcrumbs";
import { anomalyName } from "@/lib/triage/names";
import { formatDuration, formatShortTime, formatTime, LABEL_TEXT } from "./anomaly-format";

export function AnomalyDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const detail = useQuery(trpc.anomalies.detail.queryOptions({ id }, { refetchInterval: 5_000 }));
  const invalidate = () => qc.invalidateQueries({ queryKey: trpc.anomalies.pathKey() });
  const setStatus = useMutation(trpc.anomalies.setStatus.mutationOptions({ onSuccess: invalidate }));
  const setLabel = useMutation(trpc.anomalies.label.mutationOptions({ onSuccess: invalidate }));
  const comment = useMutation(trpc.anomalies.comment.mutationOptions({ onSuccess: invalidate }));
  const [text, setText] = useState("");
  const rows = useMemo(() => (detail.data ? buildChartRows(detail.data.series, detail.data.scores) : []), [detail.data]);

  if (detail.isError) return <p className="error">Could not load anomaly: {detail.error.message}</p>;
  if (!detail.data) return <p className="muted">Loading…</p>;
  const { anomaly: a, streams, feedback, similar, fromMs, toMs } = detail.data;
  const primary = streams.find((s) => s.id === a.streamId);
  const summary = typeof a.explanation.summary === "string" ? a.explanation.summary : null;
  const pendingLabel = feedback.some((f) => f.label && !f.applied);
  const lastLabel = [...feedback].reverse().find((f) => f.label);
  const busy = setStatus.isPending || setLabel.isPending;
  const error = setStatus.error ?? setLabel.error ?? comment.error;

  return (
    <div>
      <Breadcrumbs trail={[{ label: "Anomalies", href: "/anomalies" }, { label: anomalyName({ type: a.type, streamKey: a.streamKey, streamCount: a.streamIds.length }) }]} />
      <h1 data-testid="anomaly-title">
        <span className={`badge ${a.severity}`}>{a.severity}</span> {a.type} anomaly on {a.streamKey}
      </h1>
      <div className="row">
        <span>
          started <strong>{formatTime(a.startMs)}</strong>
        </span>
        <span>{a.endMs === null ? "ongoing" : `lasted ${formatDuration(a.endMs - a.startMs)}`}</span>
        <span>
          peak score <strong>{a.peakScore.toFixed(0)}</strong>
        </span>
        <span>
          status <strong className={`status ${a.status}`} data-testid="anomaly-status">{a.status}</strong>
        </span>
        <span>
          label <strong data-testid="anomaly-label">{a.label ? LABEL_TEXT[a.label] : "none"}</strong>
        </span>
        {a.incidentId !== null ? (
          <span>
            part of{" "}
            <Link href={`/incidents/${a.incidentId}`} data-testid="anomaly-incident">
              incident #{a.incidentId}
            </Link>
          </span>
        ) : null}
      </div>

      <div className="row actions" role="group" aria-label="Status">
        <Can role="operator">
          <StatusButtons status={a.status} busy={busy} onStatus={(st) => setStatus.mutate({ ids: [a.id], status: st })} />
        </Can>
        <ReportDownload anomalyId={a.id} />
      </div>
      <Can role="operator" otherwise={<p className="muted" data-testid="viewer-note">You can read this anomaly; operators triage and label it.</p>}>
        <div className="row actions" role="group" aria-label="Label">
          <LabelButtons label={a.label} busy={busy} onLabel={(l) => setLabel.mutate({ ids: [a.id], label: l })} />
        </div>
      </Can>
      {lastLabel ? (
        <p className="muted" data-testid="feedback-state" role="status">
          {pendingLabel
            ? "Label saved; the worker will apply it to the detectors within seconds."
            : lastLabel.label === "false_positive"
              ? "Applied: this stream's detectors now treat this pattern as normal (calibration threshold raised)."
              : "Applied to the detectors."}
        </p>
      ) : null}
      {error ? <p className="error">{error.message}</p> : null}
      <Can role="operator">
        <LabelSimilar target={{ anomalyId: a.id }} label={a.label} />
      </Can>

      <h2>Values and anomaly score</h2>
      <div className="panel">
        {rows.length === 0 ? <p className="muted">No data around this anomaly.</p> : null}
        <StreamChart
          rows={rows}
          markers={[{ id: a.id, startMs: a.startMs, endMs: a.endMs ?? toMs, severity: a.severity }]}
          fromMs={fromMs}
          toMs={toMs}
          unit={primary?.unit ?? null}
        />
      </div>

      <div className="two-col">
        <section aria-labelledby="explanation-h">
          <h2 id="explanation-h">Explanation</h2>
          <div className="panel">
            {summary ? <p data-testid="explanation">{summary}</p> : <p className="muted">No explanation recorded.</p>}
          </div>
          <h2>Streams involved</h2>
          <StreamLinks streams={streams} total={detail.data.totalStreams} testId="involved-streams" />
        </section>
        <section aria-labelledby="similar-h">
          <h2 id="similar-h">Similar past anomalies</h2>
          {similar.length === 0 ? (
            <p className="muted">None before this one.</p>
          ) : (
            <table data-testid="similar-table" className="fixed similar">
              <thead>
                <tr>
                  {/* one line for "Dec 17, 12:47 PM", the widest short form */}
                  <th style={{ width: "9.5em" }}>When</th>
                  <th>Stream</th>
                  <th style={{ width: "15%" }}>Severity</th>
                  <th style={{ width: "22%" }}>Labelled</th>
                </tr>
              </thead>
              <tbody>
                {similar.map((s) => (
                  <tr key={s.id}>
                    <td className="nowrap">
                      <Link href={`/anomalies/${s.id}`} title={formatTime(s.startMs)}>
                        {formatShortTime(s.startMs, detail.dataUpdatedAt)}
                      </Link>
                    </td>
                    <td className="mono ellipsis" title={s.streamKey}>
                      {s.streamKey} <span className="muted">({s.reason})</span>
                    </td>
                    <td>
                      <span className={`badge ${s.severity}`}>{s.severity}</span>
                    </td>
                    <td>{s.label ? LABEL_TEXT[s.label] : <span className="muted">unlabelled</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>

      <section aria-labelledby="causes-h">
        <h2 id="causes-h">Ranked causes</h2>
        <div className="panel">
          <RankedCauses anomalyId={a.id} />
        </div>
      </section>

      <section aria-labelledby="causal-h">
        <h2 id="causal-h">Causal timeline</h2>
        <div className="panel">
          <CausalTimeline anomalyId={a.id} />
        </div>
      </section>

      <h2>Comments and history</h2>
      <ul className="comments" data-testid="comments">
        {feedback.map((f) => (
          <li key={f.id}>
            <span className="muted">
              {formatTime(f.createdAtMs)} · {f.author}
            </span>{" "}
            {f.label ? <strong>labelled {LABEL_TEXT[f.label]}</strong> : null} {f.comment}
          </li>
        ))}
        {feedback.length === 0 ? <li className="muted">No comments yet.</li> : null}
      </ul>
      <Can role="operator">
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (!text.trim()) return;
            comment.mutate({ id: a.id, comment: text.trim() }, { onSuccess: () => setText("") });
          }}
        >
          <label htmlFor="comment" className="sr-only">
            Comment
          </label>
          <textarea id="comment" rows={2} placeholder="Add a comment…" value={text} onChange={(e) => setText(e.target.value)} style={{ width: 420 }} />
          <button type="submit" className="primary" disabled={comment.isPending || !text.trim()}>
            Add comment
          </button>
        </form>
      </Can>
    </div>
  );
}
